package org.etcdjvm.client.internal;

import java.util.List;
import okhttp3.HttpUrl;
import okhttp3.Request;
import okhttp3.RequestBody;

/**
 * What one logical request is, independent of which endpoint serves it: method, API path, key
 * segments and form body. Immutable; a request is rebuilt from it for every endpoint and redirect.
 */
public final class RequestSpec {
  final String method;
  final String api;
  final List<String> segments;
  final RequestBody body;
  final boolean write;
  final long timeoutNanos;

  private RequestSpec(String method, String api, List<String> segments, RequestBody body,
      boolean write, long timeoutNanos) {
    this.method = method;
    this.api = api;
    this.segments = segments;
    this.body = body;
    this.write = write;
    this.timeoutNanos = timeoutNanos;
  }

  /** An idempotent GET of {@code /v1/<api>/<segments>}. */
  public static RequestSpec read(String api, List<String> segments) {
    return new RequestSpec("GET", api, segments, null, false, 0);
  }

  /** A write (POST or DELETE) of {@code /v1/keys/<segments>}: never re-sent once it may have arrived. */
  public static RequestSpec write(String method, List<String> segments, RequestBody body) {
    return new RequestSpec(method, "keys", segments, body, true, 0);
  }

  /** The same request with a deadline for the whole operation (all hops); 0 means none. */
  public RequestSpec withTimeoutNanos(long nanos) {
    return new RequestSpec(method, api, segments, body, write, nanos);
  }

  public boolean isWrite() {
    return write;
  }

  public String method() {
    return method;
  }

  Request.Builder newRequest(HttpUrl url) {
    Request.Builder builder = new Request.Builder().url(url);
    if (body != null) {
      builder.method(method, body);
    } else if (method.equals("DELETE")) {
      builder.delete();
    } else {
      builder.get();
    }
    return builder;
  }

  /** The key as etcd names it, for messages. */
  String key() {
    return Keys.normalized(segments);
  }
}
