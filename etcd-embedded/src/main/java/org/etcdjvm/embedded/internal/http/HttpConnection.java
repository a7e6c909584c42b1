package org.etcdjvm.embedded.internal.http;

import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.socket.ChannelOutputShutdownException;
import io.netty.channel.socket.DuplexChannel;
import io.netty.handler.codec.CodecException;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpChunkedInput;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.TooLongHttpHeaderException;
import io.netty.handler.codec.http.TooLongHttpLineException;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.EventExecutor;
import io.netty.util.concurrent.ScheduledFuture;
import java.io.IOException;
import java.nio.channels.ClosedChannelException;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import org.etcdjvm.embedded.internal.http.LimitWarnings.Kind;
import org.etcdjvm.embedded.internal.store.EtcdError;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The last handler of one client connection: answers its requests one at a time, in order, and owns
 * keep-alive, backpressure and the connection's deadlines. Confined to the channel's event loop.
 *
 * <p><b>Order.</b> Requests are answered strictly in arrival order, as HTTP/1.1 pipelining demands:
 * while one waits (a watch, a write waiting for its commit), later ones queue here.
 *
 * <p><b>Backpressure.</b> The next request is taken up only while the channel is writable (its
 * outbound buffer is below Netty's high-water mark), so a client that sends requests but does not
 * read the answers has at most one answer waiting in memory; the connection stops reading while it
 * is not writable or {@value #MAX_QUEUED} requests are queued, and other connections on the same
 * event loop are served meanwhile. A connection that stays unwritable for the write timeout is
 * closed.
 *
 * <p><b>Turns.</b> A request is taken up only with one of its client address's turns ({@link
 * Admission#takeTurn}), held until the connection has nothing left to answer (a long-poll watch
 * gives it back while it waits). A connection without one keeps its request and stops reading
 * until a turn comes, so one address's requests in progress are bounded however many connections
 * it opens, and other clients' requests are not pushed behind them on the event loops.
 *
 * <p><b>Deadlines.</b> A request's line and headers must arrive within the header timeout of its
 * first byte (the first request: of the connection's accept), its body within the body timeout of
 * its headers; otherwise the answer is {@code 408} and the connection closes. A connection with no
 * request in progress and nothing to answer is closed after the idle timeout. A connection whose
 * request is being answered (a long-poll watch, a write waiting for its commit) is not idle. Read
 * deadlines pause while the connection itself has stopped reading. One timer per connection checks
 * them, at most every {@code min(timeouts)}.
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

  /** How far the connection is in receiving its next request. */
  private enum Reading {
    /** No byte of the next request yet. */
    AWAITING,
    /** Its first bytes, not all its headers. */
    HEADERS,
    /** Its headers, not all its body. */
    BODY
  }

  private final V1Routes routes;
  private final Admission admission;
  private final Admission.Client client;
  private final long idleNanos;
  private final long headerNanos;
  private final long bodyNanos;
  private final long writeNanos;
  /** The longest the deadline timer sleeps: the shortest timeout, so no deadline set meanwhile is missed. */
  private final long tickNanos;

  private ChannelHandlerContext ctx;
  /** The request being answered, or null. */
  private Exchange current;
  /** True while {@link V1Routes#dispatch} runs: the dispatch loop, not {@link #send}, moves on. */
  private boolean dispatching;
  /** A response carried {@code Connection: close}: whatever the client sends next is dropped. */
  private boolean closing;
  /** Our side of the connection is shut (after the last answer); reading goes on until the client hangs up. */
  private boolean outputShut;
  /** A response body is being written in chunks; the next request waits for it to be done. */
  private boolean streaming;
  private ArrayDeque<Object> queued;
  private Reading reading = Reading.AWAITING;
  /** Whether a request has arrived on this connection: until then, the header timeout is the idle timeout. */
  private boolean requestSeen;
  /** When the current {@link #reading} phase began, or when the connection last went idle. */
  private long readingSinceNanos;
  /** When the channel stopped being writable; 0 while it is writable. */
  private long unwritableSinceNanos;
  /** Request bytes reserved for this connection and not yet released. */
  private long heldBytes;
  private ScheduledFuture<?> timer;
  /** This connection holds one of its address's turns. */
  private boolean holdsTurn;
  /** This connection has a request and waits for a turn to take it up. */
  private boolean awaitingTurn;
  /** channelInactive has run. */
  private boolean inactive;
  /** Why this side closed the connection, for the debug log; null while it has not (or the client did). */
  private String closeReason;
  /**
   * Whether the debug log was on when the connection opened: it then keeps the connection's last
   * events ({@link #history}) and prints them with the reason it closed.
   */
  private final boolean tracing = log.isDebugEnabled();
  /** The connection's last events, while {@link #tracing}. */
  private ArrayDeque<String> history;

  HttpConnection(V1Routes routes, HttpConfig config, Admission admission, Admission.Client client) {
    this.routes = routes;
    this.admission = admission;
    this.client = client;
    this.idleNanos = nanos(config.idleTimeout());
    this.headerNanos = nanos(config.readHeaderTimeout());
    this.bodyNanos = nanos(config.readBodyTimeout());
    this.writeNanos = nanos(config.writeTimeout());
    long shortest = Long.MAX_VALUE;
    for (long t : new long[] {idleNanos, headerNanos, bodyNanos, writeNanos}) {
      if (t > 0) {
        shortest = Math.min(shortest, t);
      }
    }
    this.tickNanos = shortest == Long.MAX_VALUE ? 0 : shortest;
  }

  private static long nanos(Duration d) {
    try {
      return d.toNanos();
    } catch (ArithmeticException centuries) {
      return 0; // never, for practical purposes
    }
  }

  Channel channel() {
    return ctx.channel();
  }

  EventExecutor executor() {
    return ctx.executor();
  }

  /** Whether an answer ended the connection: what the client sends from now on is dropped. */
  boolean closing() {
    return closing;
  }

  /** Notes why this side is about to close the connection, for the debug log. */
  void noteClose(String reason) {
    if (closeReason == null) {
      closeReason = reason;
    }
    if (tracing) {
      trace("closing: " + reason);
    }
  }

  /** Appends to this connection's recent history (only while {@link #tracing}), printed when it closes. */
  private void trace(String event) {
    if (history == null) {
      history = new ArrayDeque<>();
    }
    if (history.size() == 24) {
      history.poll();
    }
    history.add(event);
  }

  Admission.Client client() {
    return client;
  }

  Admission admission() {
    return admission;
  }

  @Override
  public void handlerAdded(ChannelHandlerContext ctx) {
    this.ctx = ctx;
  }

  @Override
  public void channelActive(ChannelHandlerContext ctx) throws Exception {
    readingSinceNanos = System.nanoTime();
    if (!ctx.channel().isWritable()) {
      unwritableSinceNanos = readingSinceNanos;
    }
    if (tickNanos > 0) {
      timer = ctx.executor().schedule(this::tick, tickNanos, TimeUnit.NANOSECONDS);
    }
    super.channelActive(ctx);
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) throws Exception {
    inactive = true;
    if (log.isDebugEnabled()) {
      log.debug("connection {} closed: {} (answering {}, {} queued, {}, {})", ctx.channel(),
          closeReason == null ? "by the client" : closeReason, current == null ? "nothing" : current,
          queued == null ? 0 : queued.size(), reading, streaming ? "streaming" : "not streaming");
      if (history != null && closeReason != null) {
        log.debug("connection {} history: {}", ctx.channel(), String.join(" | ", history));
      }
    }
    releaseTurn(); // one still to be granted is given back when it arrives
    if (timer != null) {
      timer.cancel(false);
    }
    dropQueued();
    releaseRequestBytes(heldBytes);
    super.channelInactive(ctx);
  }

  // ------------------------------------------------------------------ reading

  /** Called by {@link V1ServerCodec} after a read: the decoder holds part of a request. */
  void requestStarted() {
    if (reading == Reading.AWAITING) {
      reading = Reading.HEADERS;
      readingSinceNanos = System.nanoTime();
    }
  }

  /** Called by {@link RequestBudget}: a request's headers are complete. */
  void headersReceived() {
    reading = Reading.BODY;
    requestSeen = true;
    readingSinceNanos = System.nanoTime();
  }

  /** Called by {@link RequestBudget}: a request's body is complete. */
  void bodyReceived() {
    reading = Reading.AWAITING;
    readingSinceNanos = System.nanoTime();
  }

  /** Reserves request bytes for this connection; null when reserved, else the cause of the refusal. */
  String reserveRequestBytes(long bytes) {
    String refusal = admission.reserveBytes(client, ctx.channel().remoteAddress(), bytes);
    if (refusal == null) {
      heldBytes += bytes;
    }
    return refusal;
  }

  void releaseRequestBytes(long bytes) {
    long released = Math.min(bytes, heldBytes);
    if (released > 0) {
      heldBytes -= released;
      admission.releaseBytes(client, released);
    }
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (closing || !(msg instanceof FullHttpRequest || msg instanceof RejectedRequest)) {
      ReferenceCountUtil.release(msg);
      return;
    }
    if (!canProcess() || (queued != null && !queued.isEmpty()) || !haveTurn()) {
      if (queued == null) {
        queued = new ArrayDeque<>();
      }
      queued.add(msg);
      updateReading();
      return;
    }
    process(msg);
  }

  /** Whether the next request may be taken up now. */
  private boolean canProcess() {
    return current == null && !closing && !streaming && !awaitingTurn && ctx.channel().isWritable();
  }

  /**
   * Whether this connection holds a turn of its address, taking one if it can; if not, it waits
   * for one ({@link #turnGranted}) and answers false.
   */
  private boolean haveTurn() {
    if (holdsTurn) {
      return true;
    }
    if (awaitingTurn) {
      return false;
    }
    if (admission.takeTurn(client)) {
      holdsTurn = true;
      return true;
    }
    awaitingTurn = true;
    EventExecutor loop = ctx.executor();
    admission.awaitTurn(client, ctx.channel().remoteAddress(), () -> {
      try {
        loop.execute(this::turnGranted);
      } catch (RejectedExecutionException shuttingDown) {
        admission.releaseTurn(client);
      }
    });
    return false;
  }

  /** On the event loop: a turn was taken for this connection. */
  private void turnGranted() {
    awaitingTurn = false;
    holdsTurn = true;
    if (inactive) {
      releaseTurn();
      return;
    }
    resume();
  }

  /** Gives back this connection's turn, if it holds one. */
  private void releaseTurn() {
    if (holdsTurn) {
      holdsTurn = false;
      admission.releaseTurn(client);
    }
  }

  /** The request being answered will wait long without costing anything (a watch): its turn goes back. */
  void waitingLong() {
    releaseTurn();
  }

  private boolean busy() {
    return current != null || streaming || (queued != null && !queued.isEmpty());
  }

  /** Answers {@code msg}, then every queued request, until one has to wait or the channel fills up. */
  private void process(Object msg) {
    while (msg != null) {
      handle(msg);
      if (!canProcess() || queued == null || queued.isEmpty() || !haveTurn()) {
        break;
      }
      msg = queued.poll();
    }
    settle();
  }

  /** After answering: with nothing left to answer, the turn goes back and the idle deadline starts. */
  private void settle() {
    if (!busy()) {
      releaseTurn();
    }
    noteIdle();
    updateReading();
  }

  /** With nothing to answer and nothing being received, the idle deadline runs from now. */
  private void noteIdle() {
    if (!busy() && reading == Reading.AWAITING) {
      readingSinceNanos = System.nanoTime();
    }
  }

  /** Releases the requests waiting to be taken up; they will not be answered. */
  private void dropQueued() {
    if (queued != null) {
      for (Object msg; (msg = queued.poll()) != null; ) {
        ReferenceCountUtil.release(msg);
      }
    }
  }

  /** Takes up queued requests again, if any and if allowed. */
  private void resume() {
    if (canProcess() && queued != null && !queued.isEmpty() && haveTurn()) {
      process(queued.poll());
      return;
    }
    settle();
  }

  /**
   * Reads from the socket only while the answers can go out and the queue is short; a closing
   * connection reads (and drops) what the client still sends, so it can hang up cleanly.
   */
  private void updateReading() {
    boolean read = closing
        || (ctx.channel().isWritable() && !streaming && !awaitingTurn && (queued == null || queued.size() < MAX_QUEUED));
    if (read != ctx.channel().config().isAutoRead()) {
      ctx.channel().config().setAutoRead(read);
      if (read) {
        readingSinceNanos = System.nanoTime(); // read deadlines were paused while we did not read
      }
    }
  }

  private void handle(Object msg) {
    if (msg instanceof RejectedRequest rejected) {
      dispatching = true;
      try {
        current = new Exchange(this, rejected.version(), rejected.keepAlive(), RequestTarget.NONE, 0);
        current.respondError(rejected.status(), rejected.error(), rejected.cause());
      } finally {
        dispatching = false;
      }
      return;
    }
    FullHttpRequest request = (FullHttpRequest) msg;
    if (tracing) {
      trace("take " + request.method() + " " + request.protocolVersion() + " " + request.uri().length() + "B uri");
    }
    Exchange exchange = null;
    dispatching = true;
    try {
      if (request.decoderResult().isFailure()) {
        releaseRequestBytes(request.content().readableBytes());
        rejectMalformed(request);
        return;
      }
      HttpVersion version = request.protocolVersion();
      if (!version.protocolName().equals("HTTP") || version.majorVersion() != 1) {
        // Netty takes any "NAME/d.d"; answering "HTTP/9.9 200 OK" would be worse than refusing.
        releaseRequestBytes(request.content().readableBytes());
        current = new Exchange(this, HttpVersion.HTTP_1_1, false, RequestTarget.NONE, 0);
        current.respondError(HttpResponseStatus.BAD_REQUEST, EtcdError.INVALID_FIELD,
            "malformed HTTP request: unsupported protocol version");
        return;
      }
      if (version.minorVersion() > 1) {
        version = HttpVersion.HTTP_1_1; // a later 1.x speaks 1.1 (RFC 9110 §2.5)
      }
      exchange = new Exchange(this, version, HttpUtil.isKeepAlive(request),
          RequestTarget.parse(request.uri()), request.content().readableBytes());
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
    current = new Exchange(this, HttpVersion.HTTP_1_1, false, RequestTarget.NONE, 0);
    current.respondError(status, EtcdError.INVALID_FIELD, text);
  }

  // ------------------------------------------------------------------ writing

  /** Writes the answer of {@code exchange}; called by {@link Exchange#respond}. */
  void send(Exchange exchange, FullHttpResponse response) {
    if (exchange != current || !ctx.channel().isActive()) {
      response.release();
      return;
    }
    current = null;
    if (tracing) {
      trace("send " + response.status().code() + (exchange.keepAlive() ? "" : " close") + " "
          + response.content().readableBytes() + "B writable=" + ctx.channel().isWritable());
    }
    if (exchange.keepAlive()) {
      if (exchange.version() == HttpVersion.HTTP_1_0) {
        response.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.KEEP_ALIVE);
      }
      ctx.writeAndFlush(response, ctx.voidPromise());
    } else {
      closing = true;
      response.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
      ctx.writeAndFlush(response).addListener((ChannelFutureListener) this::closeAfterResponse);
      updateReading();
      return;
    }
    if (!dispatching) {
      resume();
    }
  }

  /**
   * Writes the answer of {@code exchange} whose body comes in chunks; called by {@link
   * Exchange#respondStreamed}. Netty's {@code ChunkedWriteHandler} pulls the chunks while the channel
   * is writable; the next request waits until the last one is written.
   */
  void sendStreamed(Exchange exchange, HttpResponse head, ListingBody body) {
    if (exchange != current || !ctx.channel().isActive()) {
      body.close();
      return;
    }
    current = null;
    streaming = true;
    boolean keepAlive = exchange.keepAlive();
    if (tracing) {
      trace("stream " + body.length() + "B" + (keepAlive ? "" : " close"));
    }
    if (!keepAlive) {
      closing = true;
      head.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
    } else if (exchange.version() == HttpVersion.HTTP_1_0) {
      head.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.KEEP_ALIVE);
    }
    ctx.write(head, ctx.voidPromise());
    ctx.writeAndFlush(new HttpChunkedInput(body)).addListener((ChannelFutureListener) written -> {
      if (tracing) {
        trace("streamed " + (written.isSuccess() ? "ok" : written.cause()));
      }
      streaming = false;
      if (!written.isSuccess()) {
        noteClose("a streamed answer could not be written: " + written.cause());
        written.channel().close();
      } else if (!keepAlive) {
        closeAfterResponse(written);
      } else {
        resume();
      }
    });
    updateReading();
  }

  @Override
  public void channelWritabilityChanged(ChannelHandlerContext ctx) throws Exception {
    if (ctx.channel().isWritable()) {
      unwritableSinceNanos = 0;
      resume();
    } else {
      if (unwritableSinceNanos == 0) {
        unwritableSinceNanos = System.nanoTime();
      }
      updateReading();
    }
    super.channelWritabilityChanged(ctx);
  }

  /** Closes after the last response: see {@link #endGracefully}. */
  private void closeAfterResponse(ChannelFuture written) {
    if (!written.isSuccess()) {
      noteClose("an answer with Connection: close could not be written: " + written.cause());
      written.channel().close();
      return;
    }
    endGracefully("after an answer with Connection: close");
  }

  /**
   * Ends the connection without losing what was written to it. Closing a socket whose client is
   * still sending (pipelined requests, a body we will not read) resets it, and a reset can destroy
   * answers the client has not read yet, however long ago they were written (RFC 9112 §9.6). So our
   * side is shut first: the client sees every answer and then an orderly end; it hangs up, or we
   * close after {@value #LINGER_MILLIS} ms. Meanwhile what it sends is read and dropped.
   */
  private void endGracefully(String reason) {
    Channel ch = ctx.channel();
    closing = true;
    dropQueued(); // requests after the last answer are not answered
    releaseTurn();
    if (!(ch instanceof DuplexChannel duplex) || !ch.isActive()) {
      noteClose(reason);
      ch.close();
      return;
    }
    updateReading();
    SslHandler tls = ch.pipeline().get(SslHandler.class);
    if (tls != null) {
      // TLS ends with close_notify before the TCP half-close; without it a client cannot tell our
      // end of the stream from a truncation attack.
      tls.closeOutbound().addListener(f -> halfClose(duplex, reason));
      return;
    }
    halfClose(duplex, reason);
  }

  private void halfClose(DuplexChannel duplex, String reason) {
    Channel ch = duplex;
    noteClose(reason);
    if (!ch.isActive()) {
      ch.close();
      return;
    }
    outputShut = true;
    duplex.shutdownOutput().addListener(f -> {
      if (f.isSuccess()) {
        ch.eventLoop().schedule(() -> {
          noteClose("the client did not hang up within " + LINGER_MILLIS + " ms of our end");
          ch.close();
        }, LINGER_MILLIS, TimeUnit.MILLISECONDS);
      } else {
        ch.close();
      }
    });
  }

  // ------------------------------------------------------------------ deadlines

  private void tick() {
    if (!ctx.channel().isActive()) {
      return;
    }
    long now = System.nanoTime();
    long next = now + tickNanos;
    if (unwritableSinceNanos != 0 && writeNanos > 0) {
      long deadline = unwritableSinceNanos + writeNanos;
      if (now - deadline >= 0) {
        admission.warnings().warn(Kind.SLOW_READER, ctx.channel().remoteAddress(), "connection closed: it took "
            + "none of its responses for " + millis(writeNanos) + " ms (writeTimeout)");
        noteClose("writeTimeout");
        ctx.close();
        return;
      }
      next = earlier(next, deadline);
    }
    long deadline = readDeadline();
    if (deadline != 0 && !closing) {
      if (now - deadline >= 0) {
        readTimedOut();
        if (!ctx.channel().isActive()) {
          return;
        }
      } else {
        next = earlier(next, deadline);
      }
    }
    timer = ctx.executor().schedule(this::tick, Math.max(1, next - now), TimeUnit.NANOSECONDS);
  }

  private static long earlier(long a, long b) {
    return b - a < 0 ? b : a;
  }

  /** When the request being received (or the idle connection) times out; 0 for never. */
  private long readDeadline() {
    if (!ctx.channel().config().isAutoRead()) {
      return 0; // we stopped reading, so the client cannot make progress
    }
    long timeout = switch (reading) {
      case AWAITING -> busy() ? 0 : requestSeen ? idleNanos : headerNanos;
      case HEADERS -> headerNanos;
      case BODY -> bodyNanos;
    };
    return timeout == 0 ? 0 : readingSinceNanos + timeout;
  }

  private void readTimedOut() {
    if (reading == Reading.AWAITING) {
      if (requestSeen) {
        noteClose("idle for " + millis(idleNanos) + " ms (idleTimeout)");
      } else {
        noteClose("no request within " + millis(headerNanos) + " ms of connecting (readHeaderTimeout)");
        admission.warnings().warn(Kind.SLOW_REQUEST, ctx.channel().remoteAddress(), "connection closed: no "
            + "request within " + millis(headerNanos) + " ms of connecting (readHeaderTimeout)");
      }
      ctx.close();
      return;
    }
    String what = reading == Reading.HEADERS
        ? "request headers did not arrive within " + millis(headerNanos) + " ms (readHeaderTimeout)"
        : "request body did not arrive within " + millis(bodyNanos) + " ms of its headers (readBodyTimeout)";
    admission.warnings().warn(Kind.SLOW_REQUEST, ctx.channel().remoteAddress(), "408, connection closed: " + what);
    if (current != null) {
      // A request is being answered: nothing can be said in between. Its answer is dropped; those
      // written before it still reach the client.
      current = null;
      endGracefully("408 (" + what + ") while an earlier request was being answered");
      return;
    }
    current = new Exchange(this, HttpVersion.HTTP_1_1, false, RequestTarget.NONE, 0);
    current.respondError(HttpResponseStatus.REQUEST_TIMEOUT, EtcdError.INVALID_FIELD, what);
  }

  private static long millis(long nanos) {
    return TimeUnit.NANOSECONDS.toMillis(nanos);
  }

  @Override
  public void userEventTriggered(ChannelHandlerContext ctx, Object event) throws Exception {
    if (event instanceof SslHandshakeCompletionEvent handshake && !handshake.isSuccess()) {
      Throwable cause = handshake.cause();
      admission.warnings().warn(Kind.TLS_HANDSHAKE, ctx.channel().remoteAddress(), "TLS handshake failed: "
          + (cause == null ? "unknown reason" : cause.getMessage() != null ? cause.getMessage() : cause.toString()));
    }
    super.userEventTriggered(ctx, event);
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    if (outputShut && (cause instanceof ClosedChannelException || cause instanceof ChannelOutputShutdownException)) {
      // A write after our end (Netty's aggregator answering "Expect: 100-continue" on a request we
      // drop): expected. Closing now would reset the connection and could cost the client answers
      // it has not read yet; the lingering close stands.
      log.debug("connection {}: a write after our end failed: {}", ctx.channel(), cause.toString());
      return;
    }
    // Resets and broken pipes are the client's business; nothing here is worth more than debug.
    if (cause instanceof IOException || cause instanceof CodecException) {
      log.debug("connection {} failed: {}", ctx.channel(), cause.toString());
    } else {
      log.debug("connection {} failed", ctx.channel(), cause);
    }
    noteClose("failed: " + cause);
    ctx.close();
  }
}
