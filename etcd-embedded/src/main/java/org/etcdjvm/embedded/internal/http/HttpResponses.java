package org.etcdjvm.embedded.internal.http;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.DefaultHttpHeadersFactory;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpHeadersFactory;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.util.AsciiString;
import java.nio.charset.StandardCharsets;
import org.etcdjvm.embedded.internal.store.EtcdError;

/**
 * Builds every response the server sends: a full message with {@code Content-Length}, so it can go
 * out in one {@code writeAndFlush}. Stateless and thread-safe.
 */
final class HttpResponses {
  private HttpResponses() {}

  static final AsciiString APPLICATION_JSON = AsciiString.cached("application/json");
  static final AsciiString TEXT_PLAIN_UTF8 = AsciiString.cached("text/plain; charset=utf-8");

  static final HttpResponseStatus TEMPORARY_REDIRECT = HttpResponseStatus.TEMPORARY_REDIRECT;

  private static final byte[] NOT_FOUND_BODY = "404 page not found\n".getBytes(StandardCharsets.US_ASCII);

  // Every header value we set is either a constant or comes from a request line Netty already
  // parsed (which cannot hold CR or LF), so per-header validation would only cost time.
  private static final HttpHeadersFactory HEADERS =
      DefaultHttpHeadersFactory.headersFactory().withNameValidation(false).withValueValidation(false);
  private static final HttpHeadersFactory TRAILERS =
      DefaultHttpHeadersFactory.trailersFactory().withNameValidation(false).withValueValidation(false);

  /** A response with a body of the given media type. */
  static FullHttpResponse body(HttpVersion version, HttpResponseStatus status, AsciiString contentType, byte[] body) {
    FullHttpResponse response =
        new DefaultFullHttpResponse(version, status, Unpooled.wrappedBuffer(body), HEADERS, TRAILERS);
    HttpHeaders headers = response.headers();
    headers.set(HttpHeaderNames.CONTENT_TYPE, contentType);
    headers.setInt(HttpHeaderNames.CONTENT_LENGTH, body.length);
    return response;
  }

  /** {@code application/json}. */
  static FullHttpResponse json(HttpVersion version, HttpResponseStatus status, byte[] body) {
    return body(version, status, APPLICATION_JSON, body);
  }

  /** {@code application/json}, with a body the caller hands over (it is released once written). */
  static FullHttpResponse json(HttpVersion version, HttpResponseStatus status, ByteBuf body) {
    FullHttpResponse response = new DefaultFullHttpResponse(version, status, body, HEADERS, TRAILERS);
    HttpHeaders headers = response.headers();
    headers.set(HttpHeaderNames.CONTENT_TYPE, APPLICATION_JSON);
    headers.setInt(HttpHeaderNames.CONTENT_LENGTH, body.readableBytes());
    return response;
  }

  /** The status line and headers of a 200 whose body of {@code length} bytes follows in chunks. */
  static HttpResponse streamedHead(HttpVersion version, CharSequence contentType, long length) {
    HttpResponse response = new DefaultHttpResponse(version, HttpResponseStatus.OK, HEADERS);
    response.headers().set(HttpHeaderNames.CONTENT_TYPE, contentType);
    response.headers().set(HttpHeaderNames.CONTENT_LENGTH, length);
    return response;
  }

  /** {@code text/plain; charset=utf-8}. */
  static FullHttpResponse text(HttpVersion version, HttpResponseStatus status, String body) {
    return body(version, status, TEXT_PLAIN_UTF8, body.getBytes(StandardCharsets.UTF_8));
  }

  /** No body, {@code Content-Length: 0}. */
  static FullHttpResponse empty(HttpVersion version, HttpResponseStatus status) {
    FullHttpResponse response = new DefaultFullHttpResponse(version, status, Unpooled.EMPTY_BUFFER, HEADERS, TRAILERS);
    response.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, 0);
    return response;
  }

  /** The etcd error JSON with the error's own status (400, or 500 for 3xx codes). */
  static FullHttpResponse error(HttpVersion version, EtcdError error, String cause) {
    return error(version, HttpResponseStatus.valueOf(error.httpStatus()), error, cause);
  }

  /** The etcd error JSON with an explicit status (413, 503, ...). */
  static FullHttpResponse error(HttpVersion version, HttpResponseStatus status, EtcdError error, String cause) {
    return json(version, status, V1Json.error(error, cause));
  }

  /** {@code 405} with an {@code Allow} header and an empty body, as etcd 0.1.x answers. */
  static FullHttpResponse methodNotAllowed(HttpVersion version, String allow) {
    FullHttpResponse response = empty(version, HttpResponseStatus.METHOD_NOT_ALLOWED);
    response.headers().set(HttpHeaderNames.ALLOW, allow);
    return response;
  }

  /** Go's {@code http.NotFound}: {@code 404 page not found\n}. */
  static FullHttpResponse notFound(HttpVersion version) {
    return body(version, HttpResponseStatus.NOT_FOUND, TEXT_PLAIN_UTF8, NOT_FOUND_BODY);
  }

  /** {@code 307 Temporary Redirect} to {@code location}, empty body. */
  static FullHttpResponse redirect(HttpVersion version, String location) {
    FullHttpResponse response = empty(version, TEMPORARY_REDIRECT);
    response.headers().set(HttpHeaderNames.LOCATION, location);
    return response;
  }
}
