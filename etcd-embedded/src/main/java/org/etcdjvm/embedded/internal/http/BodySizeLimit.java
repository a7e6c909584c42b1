package org.etcdjvm.embedded.internal.http;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.http.HttpMessage;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import org.etcdjvm.embedded.internal.store.EtcdError;

/**
 * {@link HttpObjectAggregator} whose answer to an oversized body is the etcd error JSON with 413.
 * One per connection; confined to its event loop.
 *
 * <p>Netty's own handling sends an empty 413 and, in several cases, closes the connection at once;
 * a client still sending its body then often sees a reset, never the 413. Here the oversized request
 * becomes a {@link RejectedRequest} that {@link HttpConnection} answers in turn (keeping pipelined
 * responses in order), the aggregator throws away the rest of the body, and a client that sent
 * {@code Expect: 100-continue} gets the 413 instead of the go-ahead, so it never sends the body, and
 * with {@code Connection: close}, since the stream then holds no body for the decoder to skip. A
 * request that arrives after an answer that closes the connection gets no go-ahead: it is dropped.
 */
final class BodySizeLimit extends HttpObjectAggregator {
  private final String cause;
  private final HttpConnection connection;

  BodySizeLimit(int maxBodyBytes, HttpConnection connection) {
    super(maxBodyBytes);
    this.connection = connection;
    this.cause = "request body is larger than " + maxBodyBytes + " bytes";
  }

  @Override
  protected Object newContinueResponse(HttpMessage start, int maxContentLength, ChannelPipeline pipeline) {
    if (connection.closing()) {
      return null; // the connection ends after an answer already given: nothing more is written
    }
    if (HttpUtil.is100ContinueExpected(start) && HttpUtil.getContentLength(start, -1L) > maxContentLength) {
      // Not "100 Continue", and not Netty's empty 413 either: handleOversizedMessage answers.
      return null;
    }
    return super.newContinueResponse(start, maxContentLength, pipeline);
  }

  @Override
  protected void handleOversizedMessage(ChannelHandlerContext ctx, HttpMessage oversized) {
    // Expect is still set only when newContinueResponse above refused the go-ahead: that client will
    // not send the body, so the decoder would take its next request for the body and the connection
    // would hang. Answer with Connection: close instead (a body sent anyway is discarded meanwhile).
    boolean keepAlive = HttpUtil.isKeepAlive(oversized) && !HttpUtil.is100ContinueExpected(oversized);
    ctx.fireChannelRead(new RejectedRequest(oversized.protocolVersion(), keepAlive,
        HttpResponseStatus.REQUEST_ENTITY_TOO_LARGE, EtcdError.INVALID_FIELD, cause));
  }
}
