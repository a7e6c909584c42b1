package org.etcdjvm.client.internal;

import java.io.IOException;
import java.util.concurrent.TimeUnit;
import okhttp3.Interceptor;
import okhttp3.Response;

/**
 * Request tag for a watch long-poll: its own read timeout, applied per call with {@link
 * Interceptor.Chain#withReadTimeout} so that the client's short default read timeout stays in
 * force for every other call (the approach of consul-client's TimeoutInterceptor).
 */
final class LongPoll {
  final int readTimeoutMillis;

  LongPoll(int readTimeoutMillis) {
    this.readTimeoutMillis = readTimeoutMillis;
  }

  static final Interceptor INTERCEPTOR = new Interceptor() {
    @Override public Response intercept(Chain chain) throws IOException {
      LongPoll longPoll = chain.request().tag(LongPoll.class);
      if (longPoll == null) return chain.proceed(chain.request());
      return chain.withReadTimeout(longPoll.readTimeoutMillis, TimeUnit.MILLISECONDS)
          .proceed(chain.request());
    }
  };
}
