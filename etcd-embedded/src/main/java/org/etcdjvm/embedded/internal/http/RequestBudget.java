package org.etcdjvm.embedded.internal.http;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import org.etcdjvm.embedded.internal.store.EtcdError;

/**
 * Between the HTTP decoder and the body aggregator: reserves every body byte against the node's and
 * the client address's budget of buffered request bytes before the aggregator keeps it, and tells
 * the connection when a request's headers and body are complete (for its read deadlines).
 * Confined to the channel's event loop.
 *
 * <p>A body with a {@code Content-Length} is reserved whole when its headers arrive: when that does
 * not fit, the request is answered {@code 503} before any of its body is read, and the body, if the
 * client sends it anyway, is dropped as it comes. A chunked body is reserved chunk by chunk; when a
 * chunk does not fit, the request is answered {@code 503} and the connection closed (the aggregator
 * already holds the first chunks). The connection releases a reservation once the request is
 * answered (see {@link Exchange}), or when it closes.
 */
final class RequestBudget extends ChannelInboundHandlerAdapter {
  private final HttpConnection connection;
  private final int maxBodyBytes;

  private HttpVersion version = HttpVersion.HTTP_1_1;
  /** The body of a request refused at its headers is dropped, up to its last content. */
  private boolean discarding;
  /** A request was refused mid-body: everything is dropped until the connection closes. */
  private boolean refusedMidBody;
  /** Of the request being received: bytes reserved, bytes received, whether it is over the body limit. */
  private long reserved;
  private long received;
  private boolean oversized;

  RequestBudget(HttpConnection connection, int maxBodyBytes) {
    this.connection = connection;
    this.maxBodyBytes = maxBodyBytes;
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (refusedMidBody) {
      ReferenceCountUtil.release(msg);
      return;
    }
    if (msg instanceof HttpRequest request && !admit(ctx, request)) {
      return;
    }
    if (msg instanceof HttpContent content) {
      boolean last = content instanceof LastHttpContent;
      if (discarding || !count(ctx, content)) {
        ReferenceCountUtil.release(msg);
        if (last && discarding) {
          discarding = false;
          connection.bodyReceived();
        }
        return;
      }
      if (last) {
        if (oversized) {
          connection.releaseRequestBytes(reserved); // the aggregator dropped this body
        }
        connection.bodyReceived();
      }
    }
    ctx.fireChannelRead(msg);
  }

  /** At the headers: reserves a declared body whole. False when the request was refused (and released). */
  private boolean admit(ChannelHandlerContext ctx, HttpRequest request) {
    version = request.protocolVersion();
    reserved = 0;
    received = 0;
    oversized = false;
    connection.headersReceived();
    if (request.decoderResult().isFailure() || HttpUtil.isTransferEncodingChunked(request)) {
      return true;
    }
    long declared = contentLength(request);
    if (declared <= 0 || declared > maxBodyBytes) {
      return true; // nothing to reserve, or the aggregator refuses it with 413
    }
    String refusal = connection.reserveRequestBytes(declared);
    if (refusal == null) {
      reserved = declared;
      return true;
    }
    // A client waiting for "100 Continue" will not send the body, so the stream would not line up
    // with its next request: close after the answer then. Otherwise the body is dropped as it comes.
    boolean keepAlive = HttpUtil.isKeepAlive(request) && !HttpUtil.is100ContinueExpected(request);
    discarding = true;
    ReferenceCountUtil.release(request);
    ctx.fireChannelRead(refused(keepAlive, refusal));
    return false;
  }

  /** Counts body bytes, reserving beyond what was reserved already. False when refused mid-body. */
  private boolean count(ChannelHandlerContext ctx, HttpContent content) {
    received += content.content().readableBytes();
    if (received > maxBodyBytes) {
      oversized = true; // the aggregator answers 413 and drops the body
      return true;
    }
    if (received <= reserved) {
      return true;
    }
    String refusal = connection.reserveRequestBytes(received - reserved);
    if (refusal == null) {
      reserved = received;
      return true;
    }
    refusedMidBody = true;
    ctx.fireChannelRead(refused(false, refusal));
    return false;
  }

  private RejectedRequest refused(boolean keepAlive, String cause) {
    return new RejectedRequest(version, keepAlive, HttpResponseStatus.SERVICE_UNAVAILABLE, EtcdError.RAFT_INTERNAL,
        cause);
  }

  private static long contentLength(HttpRequest request) {
    try {
      return HttpUtil.getContentLength(request, -1L);
    } catch (NumberFormatException malformed) {
      return -1; // the decoder has failed such a request already
    }
  }
}
