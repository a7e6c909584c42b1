package org.etcdjvm.embedded.internal.raft.atomix;

import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.DecoderException;
import java.net.SocketAddress;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import javax.net.ssl.SSLException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Turns failed TLS handshakes on the peer port (a member with a certificate from another CA, a
 * process without TLS) into one WARN line a minute, naming the address and the reason, with a count
 * of those held back. Atomix 3.1.12's server pipeline ({@code ssl}, then its handshake handler)
 * handles no exception, so Netty logged each failure as "An exceptionCaught() event was fired, and
 * it reached at the tail of the pipeline" with a stack trace: ten a second while a misconfigured
 * member retries its join. A handler first in the listening channel's pipeline sees every accepted
 * connection before Atomix's initializer does and, once that initializer has run, puts {@link
 * Catcher} after Atomix's TLS handler. Installed through {@link AtomixInternals#serverChannel}.
 *
 * <p>Thread-safe.
 */
final class PeerTlsFailures {
  private static final Logger log = LoggerFactory.getLogger(PeerTlsFailures.class);
  private static final long INTERVAL_NANOS = TimeUnit.MINUTES.toNanos(1);

  private final String member;
  private final AtomicLong nextLine = new AtomicLong(System.nanoTime());
  private final AtomicLong heldBack = new AtomicLong();

  private PeerTlsFailures(String member) {
    this.member = member;
  }

  /** Installs the handlers on {@code server}, the listening channel of {@code member}'s messaging. */
  static void install(Channel server, String member) {
    PeerTlsFailures failures = new PeerTlsFailures(member);
    server.pipeline().addFirst("etcdjvm-tls-failures", failures.new Acceptor());
  }

  private void report(SocketAddress from, Throwable failure) {
    String reason = failure.getMessage() != null ? failure.getMessage() : failure.toString();
    long now = System.nanoTime();
    long next = nextLine.get();
    if (now - next < 0 || !nextLine.compareAndSet(next, now + INTERVAL_NANOS)) {
      heldBack.incrementAndGet();
      log.debug("{}: TLS handshake with peer {} failed: {}", member, from, reason);
      return;
    }
    long more = heldBack.getAndSet(0);
    log.warn("{}: TLS handshake with peer {} failed: {}{}", member, from, reason,
        more == 0 ? "" : " (and " + more + " more in the last minute)");
  }

  /** Sees each accepted connection (a {@link Channel}) before Atomix's child initializer is added to it. */
  @ChannelHandler.Sharable
  private final class Acceptor extends ChannelInboundHandlerAdapter {
    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      if (msg instanceof Channel child) {
        child.pipeline().addFirst("etcdjvm-tls-failures", new Placer());
      }
      ctx.fireChannelRead(msg);
    }
  }

  /** On registration, after Atomix's initializer added its handlers: puts a {@link Catcher} behind them. */
  private final class Placer extends ChannelInboundHandlerAdapter {
    @Override
    public void channelRegistered(ChannelHandlerContext ctx) {
      ctx.pipeline().addLast("etcdjvm-tls-catcher", new Catcher());
      ctx.pipeline().remove(this);
      ctx.fireChannelRegistered();
    }
  }

  /**
   * Right after Atomix's TLS handler once its handshake handler has replaced itself with the codec:
   * catches TLS failures, reports them and closes; passes everything else on.
   */
  private final class Catcher extends ChannelInboundHandlerAdapter {
    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      Throwable tls = cause instanceof DecoderException && cause.getCause() != null ? cause.getCause() : cause;
      if (tls instanceof SSLException) { // NotSslRecordException (no TLS at all) is one too
        report(ctx.channel().remoteAddress(), tls);
        ctx.close();
        return;
      }
      ctx.fireExceptionCaught(cause);
    }
  }
}
