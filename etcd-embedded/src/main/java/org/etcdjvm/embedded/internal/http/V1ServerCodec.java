package org.etcdjvm.embedded.internal.http;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.channel.CombinedChannelDuplexHandler;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMessage;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpRequestDecoder;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseEncoder;
import io.netty.handler.codec.http.HttpStatusClass;
import io.netty.handler.codec.http.LastHttpContent;
import java.util.ArrayDeque;
import java.util.List;

/**
 * Netty's {@code HttpServerCodec} (4.1.137), plus one thing it cannot tell us: whether, after a read,
 * the decoder holds part of a request. The connection's header deadline runs from a request's first
 * byte, and that byte may arrive in the same read as the end of the previous request, or complete a
 * header line the decoder consumes without emitting anything; neither is visible from outside the
 * decoder. {@code HttpServerCodec} is final and builds its own decoder, so this is a copy of its
 * logic (the method queue for HEAD and CONNECT answers, closing after the answer to a request that
 * had both {@code Transfer-Encoding: chunked} and a {@code Content-Length}) around a decoder that
 * counts what it consumed since the last complete request.
 *
 * <p>One per connection; confined to its event loop.
 */
final class V1ServerCodec extends CombinedChannelDuplexHandler<V1ServerCodec.RequestDecoder, V1ServerCodec.ResponseEncoder> {
  private final ArrayDeque<HttpMethod> methods = new ArrayDeque<>();
  private final HttpConnection connection;
  private boolean mustCloseAfterResponse;

  V1ServerCodec(HttpDecoderConfig config, HttpConnection connection) {
    this.connection = connection;
    init(new RequestDecoder(config), new ResponseEncoder());
  }

  final class RequestDecoder extends HttpRequestDecoder {
    /** Bytes consumed since the last complete request: a new one has begun. */
    private long partial;

    RequestDecoder(HttpDecoderConfig config) {
      super(config);
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) throws Exception {
      super.channelRead(ctx, msg);
      if (partial > 0 || actualReadableBytes() > 0) {
        connection.requestStarted();
      }
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf buffer, List<Object> out) throws Exception {
      int before = buffer.readerIndex();
      int oldSize = out.size();
      super.decode(ctx, buffer, out);
      partial += buffer.readerIndex() - before;
      for (int i = oldSize; i < out.size(); i++) {
        Object o = out.get(i);
        if (o instanceof HttpRequest request) {
          methods.add(request.method());
        }
        if (o instanceof LastHttpContent) {
          partial = 0; // the decoder ends a request and starts over within one call at most
        }
      }
    }

    @Override
    protected void handleTransferEncodingChunkedWithContentLength(HttpMessage message) {
      super.handleTransferEncodingChunkedWithContentLength(message);
      mustCloseAfterResponse = true;
    }
  }

  final class ResponseEncoder extends HttpResponseEncoder {
    private HttpMethod method;

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) throws Exception {
      if (mustCloseAfterResponse && msg instanceof LastHttpContent) {
        mustCloseAfterResponse = false;
        connection.noteClose("after the answer to a request with both Transfer-Encoding: chunked and Content-Length");
        promise = promise.unvoid().addListener(ChannelFutureListener.CLOSE);
      }
      super.write(ctx, msg, promise);
    }

    @Override
    protected void sanitizeHeadersBeforeEncode(HttpResponse msg, boolean isAlwaysEmpty) {
      if (!isAlwaysEmpty && HttpMethod.CONNECT.equals(method) && msg.status().codeClass() == HttpStatusClass.SUCCESS) {
        msg.headers().remove(HttpHeaderNames.TRANSFER_ENCODING);
        return;
      }
      super.sanitizeHeadersBeforeEncode(msg, isAlwaysEmpty);
    }

    @Override
    protected boolean isContentAlwaysEmpty(HttpResponse msg) {
      if (msg.status().codeClass() == HttpStatusClass.INFORMATIONAL) {
        return super.isContentAlwaysEmpty(msg); // "100 Continue" answers no request of its own
      }
      method = methods.poll();
      return HttpMethod.HEAD.equals(method) || super.isContentAlwaysEmpty(msg);
    }
  }
}
