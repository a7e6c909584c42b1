package org.etcdjvm.client.internal;

import java.io.IOException;
import okhttp3.Interceptor;
import okhttp3.Response;

/**
 * Records, per call, whether a request got as far as a connection. A network interceptor runs
 * after OkHttp has connected and before it writes the request, so a failure before this marker is
 * set (connection refused, DNS, connect timeout) proves the server never saw the request, and a
 * write can safely go to another endpoint. After it is set the outcome is unknown.
 */
final class SentMarker {
  volatile boolean sent;

  static final Interceptor INTERCEPTOR = new Interceptor() {
    @Override public Response intercept(Chain chain) throws IOException {
      SentMarker marker = chain.request().tag(SentMarker.class);
      if (marker != null) marker.sent = true;
      return chain.proceed(chain.request());
    }
  };
}
