package org.etcdjvm.embedded.internal.http;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.socket.DuplexChannel;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.netty.handler.ssl.SslHandler;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.etcdjvm.embedded.internal.http.LimitWarnings.Kind;

/**
 * The first handler of a connection to an HTTPS port. Its first byte decides: a TLS handshake
 * record (0x16) puts an {@link SslHandler} in this handler's place, which gets every byte read so
 * far; anything else is not TLS, and is answered at once instead of waiting for a handshake that
 * will never come — plain HTTP (a first byte that can start a method) with {@code 400} and a body
 * saying to use {@code https://} (what Go's server, and so etcd, answers), anything else by
 * closing. Either way the connection closes, and whatever the client still sends is dropped.
 */
final class HttpsOnly extends ByteToMessageDecoder {
  static final String PLAIN_HTTP_BODY = "Client sent an HTTP request to an HTTPS server.\n";
  private static final byte[] PLAIN_HTTP_ANSWER = ("HTTP/1.1 400 Bad Request\r\n"
      + "Content-Type: text/plain; charset=utf-8\r\n"
      + "Connection: close\r\n"
      + "Content-Length: " + PLAIN_HTTP_BODY.length() + "\r\n"
      + "\r\n"
      + PLAIN_HTTP_BODY).getBytes(StandardCharsets.US_ASCII);
  /** After the answer, how long a client still sending gets before the connection is closed. */
  private static final long LINGER_MILLIS = 1_000;

  private final ClientTls tls;
  private final LimitWarnings warnings;
  private boolean refused;

  HttpsOnly(ClientTls tls, LimitWarnings warnings) {
    this.tls = tls;
    this.warnings = warnings;
  }

  @Override
  protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
    if (refused || !in.isReadable()) {
      in.skipBytes(in.readableBytes());
      return;
    }
    int first = in.getUnsignedByte(in.readerIndex());
    if (first == 0x16) {
      ctx.pipeline().replace(this, "tls", tls.context().newHandler(ctx.alloc()));
      return;
    }
    refused = true;
    in.skipBytes(in.readableBytes());
    boolean http = first >= 'A' && first <= 'Z';
    warnings.warn(Kind.NOT_TLS, ctx.channel().remoteAddress(), (http ? "plain HTTP" : "a connection that is not TLS")
        + " on the HTTPS port: " + (http ? "answered 400" : "closed"));
    if (!http) {
      ctx.close();
      return;
    }
    ctx.writeAndFlush(Unpooled.wrappedBuffer(PLAIN_HTTP_ANSWER)).addListener(f -> {
      if (f.isSuccess() && ctx.channel() instanceof DuplexChannel duplex && duplex.isActive()) {
        // A half-close lets the client read the answer even if it is still sending; a close with
        // unread bytes would reset the connection and could destroy the answer.
        duplex.shutdownOutput().addListener(s ->
            ctx.executor().schedule(() -> ctx.close(), LINGER_MILLIS, TimeUnit.MILLISECONDS));
      } else {
        ctx.close();
      }
    });
  }
}
