package org.etcdjvm.embedded.internal.http;

import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.socket.DuplexChannel;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.TooLongHttpHeaderException;
import io.netty.handler.codec.http.TooLongHttpLineException;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.EventExecutor;
import io.netty.util.concurrent.ScheduledFuture;
import java.io.IOException;
import java.util.ArrayDeque;
import java.util.concurrent.TimeUnit;
import org.etcdjvm.embedded.internal.store.EtcdError;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The last handler of one client connection: answers its requests one at a time, in order, and owns
 * keep-alive and the idle timeout. Confined to the channel's event loop.
 *
 * <p>Requests are answered strictly in arrival order, as HTTP/1.1 pipelining demands: while one
 * waits (a watch, a write waiting for its commit), later ones queue here; past
 * {@value #MAX_QUEUED} queued requests the connection stops reading until the queue drains.
 *
 * <p>Keep-alive is handled here rather than by Netty's {@code HttpServerKeepAliveHandler}, because
 * that handler closes the socket right after a {@code Connection: close} response, and a client still
 * sending an oversized body would then see a reset instead of our 413.
 */
final class HttpConnection extends ChannelInboundHandlerAdapter {
  private static final Logger log = LoggerFactory.getLogger(HttpConnection.class);

  static final int MAX_QUEUED = 16;
  /** After answering a request we will not read further, how long the client gets to hang up. */
  private static final long LINGER_MILLIS = 2_000;

  private final V1Routes routes;
  private final long idleTimeoutNanos;
  private final int maxBodyBytes;

  private ChannelHandlerContext ctx;
  /** The request being answered, or null. */
  private Exchange current;
  /** True while {@link V1Routes#dispatch} runs: the dispatch loop, not {@link #send}, moves on. */
  private boolean dispatching;
  /** A response carried {@code Connection: close}: whatever the client sends next is dropped. */
  private boolean closing;
  private ArrayDeque<Object> queued;
  private long lastActivityNanos;
  private ScheduledFuture<?> idleCheck;

  HttpConnection(V1Routes routes, long idleTimeoutNanos, int maxBodyBytes) {
    this.routes = routes;
    this.idleTimeoutNanos = idleTimeoutNanos;
    this.maxBodyBytes = maxBodyBytes;
  }

  Channel channel() {
    return ctx.channel();
  }

  EventExecutor executor() {
    return ctx.executor();
  }

  @Override
  public void handlerAdded(ChannelHandlerContext ctx) {
    this.ctx = ctx;
  }

  @Override
  public void channelActive(ChannelHandlerContext ctx) throws Exception {
    lastActivityNanos = System.nanoTime();
    if (idleTimeoutNanos > 0) {
      scheduleIdleCheck(idleTimeoutNanos);
    }
    super.channelActive(ctx);
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) throws Exception {
    if (idleCheck != null) {
      idleCheck.cancel(false);
    }
    if (queued != null) {
      for (Object msg; (msg = queued.poll()) != null; ) {
        ReferenceCountUtil.release(msg);
      }
    }
    super.channelInactive(ctx);
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (closing || !(msg instanceof FullHttpRequest || msg instanceof OversizedRequest)) {
      ReferenceCountUtil.release(msg);
      return;
    }
    lastActivityNanos = System.nanoTime();
    if (current != null || (queued != null && !queued.isEmpty())) {
      if (queued == null) {
        queued = new ArrayDeque<>();
      }
      queued.add(msg);
      if (queued.size() >= MAX_QUEUED) {
        ctx.channel().config().setAutoRead(false);
      }
      return;
    }
    process(msg);
  }

  /** Answers {@code msg}, then every queued request, until one has to wait. */
  private void process(Object msg) {
    while (msg != null) {
      handle(msg);
      if (current != null || closing) {
        return;
      }
      msg = queued == null ? null : queued.poll();
    }
    if (!ctx.channel().config().isAutoRead()) {
      ctx.channel().config().setAutoRead(true);
    }
  }

  private void handle(Object msg) {
    if (msg instanceof OversizedRequest oversized) {
      dispatching = true;
      try {
        current = new Exchange(this, oversized.version(), oversized.keepAlive(), RequestTarget.NONE);
        current.respondError(HttpResponseStatus.REQUEST_ENTITY_TOO_LARGE, EtcdError.INVALID_FIELD,
            "request body is larger than " + maxBodyBytes + " bytes");
      } finally {
        dispatching = false;
      }
      return;
    }
    FullHttpRequest request = (FullHttpRequest) msg;
    Exchange exchange = null;
    dispatching = true;
    try {
      if (request.decoderResult().isFailure()) {
        rejectMalformed(request);
        return;
      }
      exchange = new Exchange(this, request.protocolVersion(), HttpUtil.isKeepAlive(request),
          RequestTarget.parse(request.uri()));
      current = exchange;
      routes.dispatch(exchange, request);
    } catch (RuntimeException e) {
      // A bug, not a client mistake: answer 500 rather than leave the client hanging.
      log.debug("request {} {} failed", request.method(), request.uri(), e);
      if (exchange != null && !exchange.isDone()) {
        exchange.respondError(EtcdError.RAFT_INTERNAL, "internal error");
      }
    } finally {
      dispatching = false;
      request.release();
    }
  }

  /** Netty could not parse the request; the decoder now discards the rest of the stream. */
  private void rejectMalformed(FullHttpRequest request) {
    Throwable cause = request.decoderResult().cause();
    HttpResponseStatus status;
    String text;
    if (cause instanceof TooLongHttpLineException) {
      status = HttpResponseStatus.REQUEST_URI_TOO_LONG;
      text = "request line is longer than " + V1HttpServer.MAX_REQUEST_LINE_BYTES + " bytes";
    } else if (cause instanceof TooLongHttpHeaderException) {
      status = HttpResponseStatus.REQUEST_HEADER_FIELDS_TOO_LARGE;
      text = "request headers are larger than " + V1HttpServer.MAX_HEADER_BYTES + " bytes";
    } else {
      status = HttpResponseStatus.BAD_REQUEST;
      text = "malformed HTTP request";
    }
    log.debug("malformed request: {}", cause == null ? "?" : cause.toString());
    current = new Exchange(this, HttpVersion.HTTP_1_1, false, RequestTarget.NONE);
    current.respondError(status, EtcdError.INVALID_FIELD, text);
  }

  /** Writes the answer of {@code exchange}; called by {@link Exchange#respond}. */
  void send(Exchange exchange, FullHttpResponse response) {
    if (exchange != current || !ctx.channel().isActive()) {
      response.release();
      return;
    }
    current = null;
    lastActivityNanos = System.nanoTime();
    if (exchange.keepAlive()) {
      if (exchange.version() == HttpVersion.HTTP_1_0) {
        response.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.KEEP_ALIVE);
      }
      ctx.writeAndFlush(response, ctx.voidPromise());
    } else {
      closing = true;
      response.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
      ctx.writeAndFlush(response).addListener((ChannelFutureListener) this::closeAfterResponse);
      return;
    }
    if (!dispatching) {
      Object next = queued == null ? null : queued.poll();
      process(next);
    }
  }

  /**
   * Closes after the last response. Half-closes first, so a client still sending a body we will not
   * read sees our response and an orderly end instead of a reset; it then hangs up, or we close after
   * a short grace period.
   */
  private void closeAfterResponse(ChannelFuture written) {
    Channel ch = written.channel();
    if (!written.isSuccess() || !(ch instanceof DuplexChannel duplex) || !ch.isActive()) {
      ch.close();
      return;
    }
    duplex.shutdownOutput().addListener(f -> {
      if (f.isSuccess()) {
        ch.eventLoop().schedule(() -> ch.close(), LINGER_MILLIS, TimeUnit.MILLISECONDS);
      } else {
        ch.close();
      }
    });
  }

  private void scheduleIdleCheck(long delayNanos) {
    idleCheck = ctx.executor().schedule(this::checkIdle, delayNanos, TimeUnit.NANOSECONDS);
  }

  private void checkIdle() {
    if (!ctx.channel().isActive()) {
      return;
    }
    long idleFor = System.nanoTime() - lastActivityNanos;
    if (current == null && idleFor >= idleTimeoutNanos) {
      log.debug("closing {}: idle for {} ms", ctx.channel(), TimeUnit.NANOSECONDS.toMillis(idleFor));
      ctx.close();
      return;
    }
    scheduleIdleCheck(current == null ? idleTimeoutNanos - idleFor : idleTimeoutNanos);
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    // Resets and broken pipes are the client's business; nothing here is worth more than debug.
    if (cause instanceof IOException) {
      log.debug("connection {} failed: {}", ctx.channel(), cause.toString());
    } else {
      log.debug("connection {} failed", ctx.channel(), cause);
    }
    ctx.close();
  }
}
