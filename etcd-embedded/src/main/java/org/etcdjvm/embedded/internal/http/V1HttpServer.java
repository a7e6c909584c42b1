package org.etcdjvm.embedded.internal.http;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollChannelOption;
import io.netty.channel.epoll.EpollEventLoopGroup;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.nio.NioEventLoopGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.stream.ChunkedWriteHandler;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.netty.util.concurrent.EventExecutor;
import io.netty.util.concurrent.Future;
import io.netty.util.internal.PlatformDependent;
import java.io.Closeable;
import java.net.BindException;
import java.net.InetSocketAddress;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.etcdjvm.embedded.internal.raft.Replica;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The etcd 0.1.2 client API over HTTP/1.1, served by Netty in front of a {@link Replica}.
 *
 * <p>One acceptor thread and one worker thread per core, all daemon threads; epoll when the native
 * transport loads, NIO otherwise. Nothing blocks an event loop: reads come from the local replica,
 * writes complete from Raft's future, and a waiting watch holds no thread.
 *
 * <p>Limits: request line {@value #MAX_REQUEST_LINE_BYTES} bytes (a value sent in the query string
 * must fit; send large values in the body), headers {@value #MAX_HEADER_BYTES} bytes, and those of
 * {@link HttpConfig}: body size, connections per node and per client address, buffered request
 * bytes, read and write deadlines (see {@link HttpConnection}).
 *
 * <p>Thread-safe. {@link #start()} once; {@link #close()} any number of times, from any thread.
 */
public final class V1HttpServer implements Closeable {
  private static final Logger log = LoggerFactory.getLogger(V1HttpServer.class);

  /** Longest request line; a longer one gets 414. Room for a 1 KiB key fully percent-encoded, and more. */
  public static final int MAX_REQUEST_LINE_BYTES = 64 * 1024;
  /** Largest header block; a larger one gets 431. */
  public static final int MAX_HEADER_BYTES = 64 * 1024;
  /**
   * A connection whose unsent responses exceed the high mark stops being read from until they drop
   * below the low mark; Netty's defaults, stated here because the backpressure depends on them.
   */
  static final WriteBufferWaterMark WATER_MARK = new WriteBufferWaterMark(32 * 1024, 64 * 1024);
  /**
   * TCP keep-alive probes after 60 s of silence, every 10 s, 6 of them: a client that vanished
   * without closing (power loss, a dropped NAT mapping) frees its connection, and the watch it was
   * waiting in, within about two minutes rather than the kernel's default of over two hours.
   */
  private static final int KEEPALIVE_IDLE_SECONDS = 60;
  private static final int KEEPALIVE_INTERVAL_SECONDS = 10;
  private static final int KEEPALIVE_PROBES = 6;

  private final Replica replica;
  private final HttpConfig config;
  private final V1Routes routes;
  private final Admission admission;
  /**
   * The server's own buffer pool, without thread-local caches. Netty's shared pool caches freed
   * buffers per event loop and trims a cache only after 8 192 allocations on its thread; cached
   * buffers pin the pool's 4 MiB chunks, so after a burst (150 connections sending 2 MiB bodies)
   * an event loop that goes quiet kept 64 MB of direct memory for good. Without the caches, a chunk
   * is given back once it is empty. Arenas: one per worker thread.
   */
  private final ByteBufAllocator allocator;
  private final AtomicBoolean started = new AtomicBoolean();
  private final AtomicBoolean closed = new AtomicBoolean();

  /** HTTPS: set by {@link #start(ClientTls)}; null for plain HTTP. */
  private volatile ClientTls tls;
  private volatile EventLoopGroup bossGroup;
  private volatile EventLoopGroup workerGroup;
  private volatile Channel serverChannel;
  private volatile InetSocketAddress boundAddress;

  public V1HttpServer(Replica replica, HttpConfig config) {
    this(replica, config, java.util.List.of(), new LimitWarnings());
  }

  /** @param corsOrigins origins allowed by CORS ({@code "*"}: any); empty: no CORS headers */
  public V1HttpServer(Replica replica, HttpConfig config, java.util.List<String> corsOrigins) {
    this(replica, config, corsOrigins, new LimitWarnings());
  }

  /** With the limit warnings going to {@code warnings} (tests). */
  V1HttpServer(Replica replica, HttpConfig config, LimitWarnings warnings) {
    this(replica, config, java.util.List.of(), warnings);
  }

  private V1HttpServer(Replica replica, HttpConfig config, java.util.List<String> corsOrigins, LimitWarnings warnings) {
    this.replica = Objects.requireNonNull(replica, "replica == null");
    this.config = Objects.requireNonNull(config, "config == null");
    this.routes = new V1Routes(replica, config, corsOrigins);
    this.admission = new Admission(config, warnings);
    int workers = Runtime.getRuntime().availableProcessors();
    this.allocator = new PooledByteBufAllocator(PlatformDependent.directBufferPreferred(), workers, workers,
        PooledByteBufAllocator.defaultPageSize(), PooledByteBufAllocator.defaultMaxOrder(), 0, 0, false);
  }

  /**
   * Binds the port and starts serving plain HTTP.
   *
   * @return completes with the bound address, or fails with a {@link BindException} naming the
   *     address when the port is taken (the server then holds no thread)
   * @throws IllegalStateException if called twice or after {@link #close()}
   */
  public CompletableFuture<InetSocketAddress> start() {
    return start(null);
  }

  /**
   * Binds the port and starts serving: HTTPS only with {@code tls} (plain HTTP is answered 400 and
   * closed, see {@link HttpsOnly}), plain HTTP if it is null. Otherwise as {@link #start()}.
   */
  public CompletableFuture<InetSocketAddress> start(ClientTls tls) {
    if (closed.get() || !started.compareAndSet(false, true)) {
      throw new IllegalStateException(closed.get() ? "closed" : "already started");
    }
    this.tls = tls;
    boolean epoll = Epoll.isAvailable();
    int workers = Runtime.getRuntime().availableProcessors();
    Class<? extends ServerChannel> channelType;
    if (epoll) {
      bossGroup = new EpollEventLoopGroup(1, new DefaultThreadFactory("etcd-http-accept", true));
      workerGroup = new EpollEventLoopGroup(workers, new DefaultThreadFactory("etcd-http", true));
      channelType = EpollServerSocketChannel.class;
    } else {
      bossGroup = new NioEventLoopGroup(1, new DefaultThreadFactory("etcd-http-accept", true));
      workerGroup = new NioEventLoopGroup(workers, new DefaultThreadFactory("etcd-http", true));
      channelType = NioServerSocketChannel.class;
    }
    ServerBootstrap bootstrap = new ServerBootstrap()
        .group(bossGroup, workerGroup)
        .channel(channelType)
        .option(ChannelOption.SO_BACKLOG, 1024)
        .option(ChannelOption.SO_REUSEADDR, true)
        .childOption(ChannelOption.TCP_NODELAY, true)
        .childOption(ChannelOption.SO_KEEPALIVE, true)
        .childOption(ChannelOption.WRITE_BUFFER_WATER_MARK, WATER_MARK)
        .childOption(ChannelOption.ALLOCATOR, allocator)
        .childHandler(new Initializer());
    if (epoll) {
      bootstrap.childOption(EpollChannelOption.TCP_KEEPIDLE, KEEPALIVE_IDLE_SECONDS)
          .childOption(EpollChannelOption.TCP_KEEPINTVL, KEEPALIVE_INTERVAL_SECONDS)
          .childOption(EpollChannelOption.TCP_KEEPCNT, KEEPALIVE_PROBES);
    }

    CompletableFuture<InetSocketAddress> result = new CompletableFuture<>();
    String where = config.host() + ":" + config.port();
    bootstrap.bind(config.host(), config.port()).addListener(f -> {
      ChannelFuture bound = (ChannelFuture) f;
      if (bound.isSuccess()) {
        serverChannel = bound.channel();
        boundAddress = (InetSocketAddress) serverChannel.localAddress();
        log.debug("etcd v1 API listening on {} ({})", boundAddress, epoll ? "epoll" : "nio");
        result.complete(boundAddress);
      } else {
        Throwable cause = bound.cause();
        BindException failure = new BindException(
            "cannot listen for etcd clients on " + where + ": " + describe(cause));
        failure.initCause(cause);
        shutDownGroups(false);
        result.completeExceptionally(failure);
      }
    });
    return result;
  }

  private static String describe(Throwable cause) {
    String message = cause == null ? null : cause.getMessage();
    if (message == null || message.isBlank()) {
      return cause == null ? "unknown error" : cause.getClass().getSimpleName();
    }
    // Epoll phrases it "bind(..) failed: Address already in use"; keep the useful part.
    int colon = message.lastIndexOf(": ");
    return message.startsWith("bind(") && colon >= 0 ? message.substring(colon + 2) : message;
  }

  /**
   * The address the server listens on (with the real port when {@link HttpConfig#port()} was 0).
   *
   * @throws IllegalStateException before {@link #start()} has completed
   */
  public InetSocketAddress boundAddress() {
    InetSocketAddress address = boundAddress;
    if (address == null) {
      throw new IllegalStateException("not listening");
    }
    return address;
  }

  /** How many client connections are open right now. */
  public int openConnections() {
    return admission.connections();
  }

  /** How many bytes of requests are buffered right now (see {@link HttpConfig#maxBufferedRequestBytes()}). */
  public long bufferedRequestBytes() {
    return admission.bufferedBytes();
  }

  /**
   * Stops listening, closes every connection (pending watches and writes are dropped) and stops all
   * threads. Waits up to a few seconds for that unless called from one of the server's own threads.
   */
  @Override
  public void close() {
    if (!closed.compareAndSet(false, true)) {
      return;
    }
    Channel channel = serverChannel;
    boolean wait = !isOwnThread();
    if (channel != null) {
      if (wait) {
        channel.close().awaitUninterruptibly(2, TimeUnit.SECONDS);
      } else {
        channel.close();
      }
    }
    shutDownGroups(wait);
  }

  private void shutDownGroups(boolean wait) {
    EventLoopGroup boss = bossGroup;
    EventLoopGroup workers = workerGroup;
    Future<?> bossDone = boss == null ? null : boss.shutdownGracefully(0, 2, TimeUnit.SECONDS);
    Future<?> workersDone = workers == null ? null : workers.shutdownGracefully(0, 2, TimeUnit.SECONDS);
    if (wait) {
      if (bossDone != null) {
        bossDone.awaitUninterruptibly(5, TimeUnit.SECONDS);
      }
      if (workersDone != null) {
        workersDone.awaitUninterruptibly(5, TimeUnit.SECONDS);
      }
    }
  }

  private boolean isOwnThread() {
    for (EventLoopGroup group : new EventLoopGroup[] {bossGroup, workerGroup}) {
      if (group != null) {
        for (EventExecutor executor : group) {
          if (executor.inEventLoop()) {
            return true;
          }
        }
      }
    }
    return false;
  }

  /**
   * Per connection: the connection limits (node and client address) before anything is read, then
   * (HTTPS) {@link HttpsOnly} and in its place the TLS handler, then codec → chunked writer (streamed listings) → body budget → body limit → our
   * handler.
   */
  private final class Initializer extends ChannelInitializer<SocketChannel> {
    @Override
    protected void initChannel(SocketChannel ch) {
      Admission.Client client = admission.admitConnection(ch.remoteAddress());
      if (client == null) {
        ch.close();
        return;
      }
      ch.closeFuture().addListener(f -> admission.releaseConnection(client));
      configure(ch.pipeline(), routes, config, admission, client);
      ClientTls https = tls;
      if (https != null) {
        ch.pipeline().addFirst("https-only", new HttpsOnly(https, admission.warnings()));
      }
    }
  }

  /** The handlers of one connection of {@code client}. */
  static void configure(ChannelPipeline pipeline, V1Routes routes, HttpConfig config, Admission admission,
      Admission.Client client) {
    HttpDecoderConfig decoderConfig = new HttpDecoderConfig()
        .setMaxInitialLineLength(MAX_REQUEST_LINE_BYTES)
        .setMaxHeaderSize(MAX_HEADER_BYTES);
    HttpConnection connection = new HttpConnection(routes, config, admission, client);
    pipeline
        .addLast("codec", new V1ServerCodec(decoderConfig, connection))
        .addLast("chunked", new ChunkedWriteHandler())
        .addLast("budget", new RequestBudget(connection, config.maxBodyBytes()))
        .addLast("aggregator", new BodySizeLimit(config.maxBodyBytes(), connection))
        .addLast("v1", connection);
  }
}
