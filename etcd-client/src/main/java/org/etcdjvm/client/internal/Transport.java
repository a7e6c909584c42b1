package org.etcdjvm.client.internal;

import com.squareup.moshi.Moshi;
import java.io.IOException;
import java.lang.System.Logger.Level;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import okhttp3.Call;
import okhttp3.Callback;
import okhttp3.ConnectionPool;
import okhttp3.Dispatcher;
import okhttp3.HttpUrl;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.Response;
import okhttp3.tls.HandshakeCertificates;
import org.etcdjvm.client.EtcdException;

/**
 * Runs requests against the cluster: picks endpoints, follows redirects, fails over, refreshes the
 * member list, and owns (or borrows) the OkHttp machinery.
 *
 * <p>Three {@link OkHttpClient}s derived with {@code newBuilder()} share one connection pool:
 * reads (OkHttp redirects off), writes (also {@code retryOnConnectionFailure(false)} so OkHttp
 * never re-sends a write by itself), and watches (their own {@link Dispatcher}, so long-polls never
 * count against the per-host limit of other calls, and a per-call read timeout). Thread-safe.
 */
public final class Transport {
  static final System.Logger LOG = System.getLogger("org.etcdjvm.client");

  private final Endpoints endpoints;
  private final Moshi moshi;
  private final boolean autoSync;
  private final Executor callbackExecutor;
  private final int watchTimeoutMillis;
  private final OkHttpClient readClient;
  private final OkHttpClient writeClient;
  private final OkHttpClient watchClient;
  private final Dispatcher watchDispatcher;
  /** Non-null only if this transport created them; only those are released on close. */
  private final ExecutorService ownedExecutor;
  private final Dispatcher ownedDispatcher;
  private final ConnectionPool ownedPool;

  private final Set<WatchLoop> watches = ConcurrentHashMap.newKeySet();
  /**
   * Request targets built recently. Building an {@link HttpUrl} (percent-encoding and re-decoding
   * every segment) and a {@link Request} was the largest piece of the client's own CPU per call in
   * the benchmark; applications use a small set of keys over and over, and a GET request is
   * immutable, so it is built once. Cleared when full.
   */
  private final ConcurrentHashMap<TargetKey, Target> targets = new ConcurrentHashMap<>();
  /** Keys as the application wrote them, parsed: the same key then yields the same segment list. */
  private final ConcurrentHashMap<String, List<String>> parsedKeys = new ConcurrentHashMap<>();
  private final boolean staleReads;
  /** The highest index of a write acknowledged to this client: reads must not show older state. */
  private final java.util.concurrent.atomic.AtomicLong writeFloor = new java.util.concurrent.atomic.AtomicLong();
  private final AtomicBoolean initialSync = new AtomicBoolean();
  private final AtomicBoolean syncing = new AtomicBoolean();
  private volatile boolean closed;

  /**
   * @param userClient used as the base of every call and never shut down; null to create one
   * @param userExecutor runs OkHttp's calls and is never shut down; null to use the client's
   * @param connectTimeout null to keep the user client's (or 2 s for a created client)
   * @param readTimeout null to keep the user client's (or 5 s for a created client)
   * @param tls the certificates of {@code https://} calls; null to keep the user client's (or the
   *     JDK's trusted CAs and no client certificate for a created client)
   */
  public Transport(List<HttpUrl> seeds, OkHttpClient userClient, ExecutorService userExecutor,
      Executor callbackExecutor, Moshi moshi, Duration connectTimeout, Duration readTimeout,
      Duration watchTimeout, boolean autoSync, boolean staleReads, HandshakeCertificates tls) {
    this.endpoints = new Endpoints(seeds);
    this.staleReads = staleReads;
    this.moshi = moshi;
    this.autoSync = autoSync;
    this.callbackExecutor = callbackExecutor;
    this.watchTimeoutMillis = (int) Math.min(Integer.MAX_VALUE, watchTimeout.toMillis());

    OkHttpClient base;
    ExecutorService executor; // runs the watch dispatcher, and the normal one if we create it
    if (userClient != null) {
      base = userClient;
      ownedExecutor = null;
      ownedDispatcher = null;
      ownedPool = null;
      executor = userExecutor != null ? userExecutor : userClient.dispatcher().executorService();
    } else {
      ownedExecutor = userExecutor == null ? newDaemonExecutor() : null;
      executor = userExecutor != null ? userExecutor : ownedExecutor;
      ownedDispatcher = new Dispatcher(executor);
      ownedDispatcher.setMaxRequestsPerHost(64);
      ownedDispatcher.setMaxRequests(256);
      ownedPool = new ConnectionPool();
      base = new OkHttpClient.Builder()
          .dispatcher(ownedDispatcher)
          .connectionPool(ownedPool)
          .connectTimeout(connectTimeout != null ? connectTimeout : Duration.ofSeconds(2))
          .readTimeout(readTimeout != null ? readTimeout : Duration.ofSeconds(5))
          .build();
    }
    OkHttpClient.Builder reads = base.newBuilder().followRedirects(false).followSslRedirects(false);
    if (tls != null) reads.sslSocketFactory(tls.sslSocketFactory(), tls.trustManager());
    if (connectTimeout != null) reads.connectTimeout(connectTimeout);
    if (readTimeout != null) reads.readTimeout(readTimeout);
    readClient = reads.build();
    writeClient = readClient.newBuilder()
        .retryOnConnectionFailure(false)
        .addNetworkInterceptor(SentMarker.INTERCEPTOR)
        .build();
    watchDispatcher = new Dispatcher(executor);
    watchDispatcher.setMaxRequests(Integer.MAX_VALUE);
    watchDispatcher.setMaxRequestsPerHost(Integer.MAX_VALUE);
    watchClient = readClient.newBuilder()
        .dispatcher(watchDispatcher)
        .callTimeout(Duration.ZERO) // a long-poll is bounded by its own read timeout only
        .addInterceptor(LongPoll.INTERCEPTOR)
        .addNetworkInterceptor(SentMarker.INTERCEPTOR)
        .build();
  }

  private static ExecutorService newDaemonExecutor() {
    // OkHttp's own default, but with daemon threads.
    return new ThreadPoolExecutor(0, Integer.MAX_VALUE, 60, TimeUnit.SECONDS,
        new SynchronousQueue<>(), new DaemonThreadFactory("etcd-client"));
  }

  /**
   * {@link Keys#segments}, cached: a key used again costs one lookup, and its segment list is
   * the same instance, which makes the {@link #targets} lookup an identity comparison.
   */
  public List<String> segments(String key, String name) {
    List<String> segments = key == null ? null : parsedKeys.get(key);
    if (segments == null) {
      segments = Keys.segments(key, name); // validates; throws for a bad key, which is not cached
      if (parsedKeys.size() >= MAX_CACHED_TARGETS) parsedKeys.clear();
      parsedKeys.put(key, segments);
    }
    return segments;
  }

  /** The GET request of the read {@code spec} on {@code base}, built once and cached. */
  Request readRequest(RequestSpec spec, HttpUrl base) {
    Target target = target(base, spec.api, spec.segments);
    Request get = target.get;
    if (get == null) target.get = get = spec.newRequest(target.url).build();
    return get;
  }

  /** {@code base/v1/<api>/<segments>}, from the cache when possible. */
  HttpUrl url(HttpUrl base, String api, List<String> segments) {
    return target(base, api, segments).url;
  }

  private Target target(HttpUrl base, String api, List<String> segments) {
    TargetKey key = new TargetKey(base, api, segments);
    Target target = targets.get(key);
    if (target == null) {
      target = new Target(api.equals("machines")
          ? base.newBuilder().query(null).fragment(null).addPathSegment("v1").addPathSegment("machines").build()
          : Keys.url(base, api, segments));
      if (targets.size() >= MAX_CACHED_TARGETS) targets.clear();
      targets.put(key, target);
    }
    return target;
  }

  private static final int MAX_CACHED_TARGETS = 1024;

  private record TargetKey(HttpUrl base, String api, List<String> segments) {}

  private static final class Target {
    final HttpUrl url;
    volatile Request get; // built on first use

    Target(HttpUrl url) {
      this.url = url;
    }
  }

  public Endpoints endpoints() {
    return endpoints;
  }

  /** A write was acknowledged at {@code index}: later reads through this client must be at least that fresh. */
  void acknowledged(long index) {
    writeFloor.accumulateAndGet(index, Math::max);
  }

  /** The index reads must have reached (0: any; always 0 with stale reads allowed). */
  long readFloor() {
    return staleReads ? 0 : writeFloor.get();
  }

  public Moshi moshi() {
    return moshi;
  }

  Executor callbackExecutor() {
    return callbackExecutor;
  }

  int watchTimeoutMillis() {
    return watchTimeoutMillis;
  }

  OkHttpClient readClient() {
    return readClient;
  }

  OkHttpClient writeClient() {
    return writeClient;
  }

  OkHttpClient watchClient() {
    return watchClient;
  }

  public boolean isClosed() {
    return closed;
  }

  /** Runs {@code spec} on the calling thread. */
  public <T> T execute(RequestSpec spec, ResponseReader<T> reader) throws IOException, EtcdException {
    checkOpen();
    maybeInitialSync();
    Exchange<T> exchange = new Exchange<>(this, spec, reader);
    Request request = exchange.first();
    while (true) {
      Call call = exchange.newCall(request);
      Response response;
      try {
        response = call.execute();
      } catch (IOException e) {
        request = exchange.onFailure(call, e);
        continue;
      }
      try (response) {
        request = exchange.onResponse(response);
      }
      if (request == null) return exchange.result();
    }
  }

  /** Runs {@code spec} on OkHttp's dispatcher; cancelling the future cancels the call. */
  public <T> CompletableFuture<T> executeAsync(RequestSpec spec, ResponseReader<T> reader) {
    checkOpen();
    maybeInitialSync();
    return start(spec, reader);
  }

  private <T> CompletableFuture<T> start(RequestSpec spec, ResponseReader<T> reader) {
    AsyncExchange<T> async = new AsyncExchange<>(new Exchange<>(this, spec, reader));
    async.send(async.exchange.first());
    return async;
  }

  /** Fetches {@code /v1/machines} and adopts the list (leader first). */
  public List<String> readMachines(Response response) throws IOException {
    String text = response.body().string();
    List<HttpUrl> machines = new ArrayList<>();
    List<String> names = new ArrayList<>();
    for (String part : text.split("[,\\s]+")) {
      HttpUrl url = HttpUrl.parse(part.trim());
      if (url == null) continue;
      names.add(part.trim());
      if (!url.isHttps() && endpoints.httpsOnly()) {
        // a client given only https:// endpoints never sends a request without TLS
        LOG.log(Level.DEBUG, "not sending to the plain http member " + url + " listed by " + response.request().url());
      } else {
        machines.add(Endpoints.baseOf(url));
      }
    }
    endpoints.membersFound(machines);
    return List.copyOf(names);
  }

  /** Reports a failed endpoint; refreshes the member list in the background if reads moved. */
  void endpointFailed(HttpUrl endpoint) {
    if (endpoints.reportFailure(endpoint) && autoSync && !closed) syncAsync();
  }

  private void maybeInitialSync() {
    if (autoSync && !initialSync.get() && initialSync.compareAndSet(false, true)) syncAsync();
  }

  private void syncAsync() {
    if (!syncing.compareAndSet(false, true)) return;
    start(RequestSpec.read("machines", List.of()), this::readMachines).whenComplete((machines, e) -> {
      syncing.set(false);
      if (e != null) LOG.log(Level.DEBUG, "member list refresh failed", e);
    });
  }

  void register(WatchLoop watch) {
    watches.add(watch);
    if (closed) watch.close();
  }

  void unregister(WatchLoop watch) {
    watches.remove(watch);
  }

  private void checkOpen() {
    if (closed) throw new IllegalStateException("EtcdClient is closed");
  }

  /**
   * Cancels every watch and every call this transport started on its own dispatchers; shuts down
   * the executor, dispatcher and pool only if it created them.
   */
  public void close() {
    if (closed) return;
    closed = true;
    for (WatchLoop watch : watches) watch.close();
    watchDispatcher.cancelAll();
    if (ownedDispatcher != null) ownedDispatcher.cancelAll();
    if (ownedPool != null) ownedPool.evictAll();
    if (ownedExecutor != null) ownedExecutor.shutdown();
  }

  /** Drives an {@link Exchange} with OkHttp callbacks; is itself the result future. */
  private static final class AsyncExchange<T> extends CompletableFuture<T> implements Callback {
    final Exchange<T> exchange;
    private volatile Call call;

    AsyncExchange(Exchange<T> exchange) {
      this.exchange = exchange;
    }

    void send(Request request) {
      Call c;
      try {
        c = exchange.newCall(request);
      } catch (IOException e) {
        completeExceptionally(e);
        return;
      }
      call = c;
      if (isDone()) return;
      c.enqueue(this);
    }

    @Override public void onFailure(Call c, IOException e) {
      Request next;
      try {
        next = exchange.onFailure(c, e);
      } catch (Throwable t) {
        completeExceptionally(t);
        return;
      }
      send(next);
    }

    @Override public void onResponse(Call c, Response response) {
      Request next;
      try (response) {
        next = exchange.onResponse(response);
      } catch (Throwable t) {
        completeExceptionally(t);
        return;
      }
      if (next == null) {
        complete(exchange.result());
      } else {
        send(next);
      }
    }

    @Override public boolean cancel(boolean mayInterruptIfRunning) {
      boolean cancelled = super.cancel(mayInterruptIfRunning);
      Call c = call;
      if (c != null) c.cancel();
      return cancelled;
    }
  }
}
