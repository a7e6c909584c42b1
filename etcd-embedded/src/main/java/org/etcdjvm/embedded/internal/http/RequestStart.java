package org.etcdjvm.embedded.internal.http;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;

/**
 * First in the pipeline, before the HTTP decoder: tells the connection that bytes arrived, so that
 * a request's header deadline runs from its first byte rather than from when the connection went
 * idle. Confined to the channel's event loop.
 */
final class RequestStart extends ChannelInboundHandlerAdapter {
  private final HttpConnection connection;

  RequestStart(HttpConnection connection) {
    this.connection = connection;
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    connection.bytesReceived();
    ctx.fireChannelRead(msg);
  }
}
