package org.etcdjvm.examples;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import okhttp3.Headers;
import okhttp3.MediaType;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.RequestBody;
import okhttp3.Response;
import org.etcdjvm.client.EtcdClient;
import org.etcdjvm.client.EtcdResponse;
import org.etcdjvm.client.Watch;
import org.etcdjvm.client.WatchEvent;
import org.etcdjvm.client.WatchResync;
import org.etcdjvm.embedded.EtcdNode;

/**
 * The reconfiguring proxy of etcd's guide, for real: an HTTP reverse proxy that sends each request
 * to the next backend, round robin, among those announced under a prefix such as {@code
 * /foo-service} ({@code /foo-service/<name> = <host:port>}, see {@link Backend}). Its backend table
 * comes from watch callbacks alone: a backend appears with its first {@code SET} and leaves with a
 * {@code DELETE} or, when it stops heartbeating, an {@code EXPIRE}.
 *
 * <p>Shows: a watch {@link Watch.Builder#fromIndex(long) from index 1} with typed callbacks. The
 * server replays every announcement it still has; if its history no longer reaches back that far
 * the watch calls {@link Watch.Builder#onResync onResync} with the current listing instead, so the
 * table is complete either way and then misses no change. Callbacks for one watch run one at a
 * time, so the table needs no lock; request threads read an immutable copy.
 *
 * <p>A request that cannot even connect to its backend (refused: the backend is gone but its key
 * has not expired yet) is sent to the next one, since it never reached the first; any other
 * failure is answered {@code 502} and never re-sent. No backend: {@code 503}. Bodies are
 * buffered; this is an example, not a production proxy.
 */
public final class ServiceProxy implements Closeable {
  /** Hop-by-hop headers (RFC 9110 section 7.6.1) and the ones each side sets itself. */
  private static final Set<String> NOT_FORWARDED = Set.of("connection", "keep-alive", "proxy-connection",
      "transfer-encoding", "te", "trailer", "upgrade", "host", "content-length");

  private final String prefix;
  private final Watch watch;
  private final HttpServer server;
  private final ExecutorService handlers;
  private final OkHttpClient upstream;
  private final AtomicInteger next = new AtomicInteger();
  /** Backend name to host:port, sorted by name; replaced, never modified. */
  private volatile Map<String, String> backends = Map.of();

  private ServiceProxy(EtcdClient etcd, String prefix, InetSocketAddress listen) throws IOException {
    this.prefix = "/" + prefix.replaceAll("^/+|/+$", "") + "/"; // set before callbacks can run
    this.upstream = new OkHttpClient.Builder()
        .connectTimeout(Duration.ofSeconds(1))
        .readTimeout(Duration.ofSeconds(10))
        .retryOnConnectionFailure(false) // the proxy decides what is re-sent
        .followRedirects(false)
        .build();
    this.handlers = Executors.newFixedThreadPool(8, Examples.daemonThreads("proxy"));
    this.server = HttpServer.create(listen, 0);
    server.createContext("/", this::forward);
    server.setExecutor(handlers);
    this.watch = etcd.watch(prefix).fromIndex(1)
        .onSet(e -> update(e.key(), e.value()))
        .onDelete(this::remove)
        .onExpire(this::remove)
        .onResync(this::replace)
        .start();
    server.start();
  }

  /** Starts a proxy for the backends under {@code prefix} on a free loopback port. */
  public static ServiceProxy start(EtcdClient etcd, String prefix) throws IOException {
    return start(etcd, prefix, new InetSocketAddress("127.0.0.1", 0));
  }

  /** Starts a proxy for the backends under {@code prefix} on {@code listen}. */
  public static ServiceProxy start(EtcdClient etcd, String prefix, InetSocketAddress listen) throws IOException {
    return new ServiceProxy(etcd, prefix, listen);
  }

  /** The proxy's own URL, such as {@code http://127.0.0.1:41234}. */
  public String url() {
    return "http://" + server.getAddress().getHostString() + ":" + server.getAddress().getPort();
  }

  /** The backends now: name to {@code host:port}. */
  public Map<String, String> backends() {
    return backends;
  }

  private void forward(HttpExchange exchange) throws IOException {
    try (exchange) {
      byte[] body;
      try (InputStream in = exchange.getRequestBody()) {
        body = in.readAllBytes();
      }
      List<String> candidates = List.copyOf(backends.values());
      if (candidates.isEmpty()) {
        reply(exchange, 503, "no backend announced under " + prefix + "\n");
        return;
      }
      int first = Math.floorMod(next.getAndIncrement(), candidates.size());
      for (int attempt = 0; attempt < candidates.size(); attempt++) {
        String backend = candidates.get((first + attempt) % candidates.size());
        try (Response response = upstream.newCall(upstreamRequest(exchange, backend, body)).execute()) {
          relay(response, exchange);
          return;
        } catch (ConnectException refused) {
          // never reached that backend: the next one may answer
        } catch (IOException e) {
          reply(exchange, 502, "backend " + backend + " failed: " + e.getMessage() + "\n");
          return;
        }
      }
      reply(exchange, 502, "no backend under " + prefix + " accepted the connection\n");
    }
  }

  private static Request upstreamRequest(HttpExchange exchange, String backend, byte[] body) {
    String method = exchange.getRequestMethod().toUpperCase(Locale.ROOT);
    URI uri = exchange.getRequestURI();
    Headers.Builder headers = new Headers.Builder();
    exchange.getRequestHeaders().forEach((name, values) -> {
      if (!NOT_FORWARDED.contains(name.toLowerCase(Locale.ROOT))) {
        values.forEach(v -> headers.add(name, v));
      }
    });
    headers.add("X-Forwarded-For", exchange.getRemoteAddress().getAddress().getHostAddress());
    headers.add("Via", "1.1 etcd-service-proxy");
    String contentType = exchange.getRequestHeaders().getFirst("Content-Type");
    // OkHttp refuses a body on GET and HEAD and insists on one for POST, PUT and PATCH
    boolean bodyRequired = method.equals("POST") || method.equals("PUT") || method.equals("PATCH");
    boolean bodyAllowed = !method.equals("GET") && !method.equals("HEAD");
    RequestBody requestBody = bodyRequired || (bodyAllowed && body.length > 0)
        ? RequestBody.create(body, contentType == null ? null : MediaType.parse(contentType))
        : null;
    return new Request.Builder()
        .url("http://" + backend + uri.getRawPath() + (uri.getRawQuery() == null ? "" : "?" + uri.getRawQuery()))
        .headers(headers.build())
        .method(method, requestBody)
        .build();
  }

  private static void relay(Response response, HttpExchange exchange) throws IOException {
    byte[] body = response.body().bytes();
    for (String name : response.headers().names()) {
      if (!NOT_FORWARDED.contains(name.toLowerCase(Locale.ROOT))) {
        exchange.getResponseHeaders().put(name, response.headers(name));
      }
    }
    boolean noBody = body.length == 0 || exchange.getRequestMethod().equalsIgnoreCase("HEAD");
    exchange.sendResponseHeaders(response.code(), noBody ? -1 : body.length);
    if (!noBody) {
      exchange.getResponseBody().write(body);
    }
  }

  private static void reply(HttpExchange exchange, int status, String text) throws IOException {
    byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
    exchange.getResponseHeaders().set("Content-Type", "text/plain; charset=utf-8");
    exchange.sendResponseHeaders(status, bytes.length);
    exchange.getResponseBody().write(bytes);
  }

  private void update(String key, String address) {
    Map<String, String> copy = new TreeMap<>(backends);
    copy.put(name(key), address);
    backends = Collections.unmodifiableMap(copy);
  }

  private void remove(WatchEvent event) {
    Map<String, String> copy = new TreeMap<>(backends);
    copy.remove(name(event.key()));
    backends = Collections.unmodifiableMap(copy);
  }

  private void replace(WatchResync resync) {
    Map<String, String> fresh = new TreeMap<>();
    for (EtcdResponse entry : resync.entries()) {
      if (!entry.dir()) {
        fresh.put(name(entry.key()), entry.value());
      }
    }
    backends = Collections.unmodifiableMap(fresh);
  }

  private String name(String key) {
    return key.startsWith(prefix) ? key.substring(prefix.length()) : key;
  }

  /** Stops serving and watching. */
  @Override
  public void close() {
    server.stop(0);
    handlers.shutdownNow();
    watch.close();
    upstream.dispatcher().executorService().shutdown();
    upstream.connectionPool().evictAll();
  }

  /**
   * Starts a node, two backends and the proxy; sends requests through the proxy while one backend
   * stops heartbeating and its key expires.
   */
  public static void main(String[] args) throws Exception {
    run(System.out);
  }

  static void run(PrintStream out) throws Exception {
    Path dir = Files.createTempDirectory("etcd-service-proxy");
    try (EtcdNode node = EtcdNode.builder().dataDir(dir).clientAddress("127.0.0.1:0").peerAddress("127.0.0.1:0").build()) {
      node.start().get(30, TimeUnit.SECONDS);
      out.println("etcd node ready at " + node.clientUrl());
      HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
      try (EtcdClient etcd = EtcdClient.builder().endpoints(node.clientUrl()).build();
          Backend a = Backend.start(etcd, "/foo-service", "a", Duration.ofSeconds(2));
          Backend b = Backend.start(etcd, "/foo-service", "b", Duration.ofSeconds(2));
          ServiceProxy proxy = ServiceProxy.start(etcd, "/foo-service")) {
        out.println("backends a at " + a.address() + " and b at " + b.address() + " announced with a 2 s TTL");
        while (proxy.backends().size() < 2) {
          Thread.sleep(10);
        }
        out.println("proxy at " + proxy.url() + " routes to " + proxy.backends());
        out.println("requests through the proxy: " + String.join(", ", send(http, proxy, 4)));

        b.stopHeartbeat();
        long stopped = System.nanoTime();
        out.println("b stops heartbeating (it keeps serving, but etcd no longer hears from it)");
        while (proxy.backends().containsKey("b")) {
          Thread.sleep(10);
        }
        out.printf("b's key expired %d ms later; proxy routes to %s%n",
            TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - stopped), proxy.backends());
        out.println("requests through the proxy: " + String.join(", ", send(http, proxy, 4)));
      }
    } finally {
      Examples.deleteRecursively(dir);
    }
  }

  private static List<String> send(HttpClient http, ServiceProxy proxy, int count) throws Exception {
    List<String> answers = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(proxy.url() + "/hello")).build(),
          HttpResponse.BodyHandlers.ofString());
      answers.add(r.statusCode() + " " + r.body().strip());
    }
    return answers;
  }
}
