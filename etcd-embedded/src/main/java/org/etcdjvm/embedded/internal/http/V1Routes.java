package org.etcdjvm.embedded.internal.http;

import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import org.etcdjvm.embedded.internal.raft.Replica;
import org.etcdjvm.embedded.internal.store.EtcdError;

/**
 * The route table of the etcd 0.1.2 client API. Shared by every connection; stateless apart from the
 * store counters, thread-safe.
 *
 * <p>Routing looks at the raw path with plain string tests (no regex): {@code /v1/keys} and
 * {@code /v1/watch} match with or without a trailing slash (both mean the root), everything else must
 * match exactly, and anything unknown is Go's {@code 404 page not found}.
 */
final class V1Routes {
  private static final String KEYS = "/v1/keys";
  private static final String WATCH = "/v1/watch";
  private static final String STATS = "/v1/stats";

  private final KeysRoute keys;
  private final WatchRoute watch;
  private final ClusterRoutes cluster;

  private final java.util.Set<String> corsOrigins;
  private final Replica replica;

  V1Routes(Replica replica, HttpConfig config) {
    this(replica, config, java.util.List.of());
  }

  V1Routes(Replica replica, HttpConfig config, java.util.List<String> corsOrigins) {
    this.corsOrigins = java.util.Set.copyOf(corsOrigins);
    this.replica = replica;
    StoreStats stats = new StoreStats();
    this.keys = new KeysRoute(replica, stats, config);
    this.watch = new WatchRoute(replica, config);
    this.cluster = new ClusterRoutes(replica, stats);
  }

  /** Answers {@code request} now or arranges for it to be answered. {@code request} is released after. */
  void dispatch(Exchange exchange, FullHttpRequest request) {
    String path = exchange.rawPath();
    if (!corsOrigins.isEmpty() && cors(exchange, request)) {
      return;
    }
    if (replica != null && !replica.ready() && answersOnlyWhenReady(path)) {
      // Until the replica has caught up, a read could miss keys, a listing be partial, a watch
      // replay an old event as new, and a write fail; and /version must not say "ready".
      exchange.respondError(HttpResponseStatus.SERVICE_UNAVAILABLE, EtcdError.RAFT_INTERNAL,
          "starting: waiting for " + replica.waitingFor());
      return;
    }
    if (path.startsWith("/v1/")) {
      if (isUnder(path, KEYS)) {
        keys.handle(exchange, request, path.substring(KEYS.length()));
      } else if (isUnder(path, WATCH)) {
        watch.handle(exchange, request, path.substring(WATCH.length()));
      } else if (path.equals("/v1/leader")) {
        cluster.leader(exchange);
      } else if (path.equals("/v1/machines")) {
        cluster.machines(exchange);
      } else if (isUnder(path, STATS)) {
        cluster.stats(exchange, path.substring(STATS.length()));
      } else {
        exchange.respondNotFound();
      }
    } else if (path.startsWith("/remove/")) {
      cluster.remove(exchange, request, path.substring("/remove/".length()));
    } else if (path.equals("/version") || path.equals("/")) {
      cluster.version(exchange); // "/" as in etcd 0.1.0
    } else {
      exchange.respondNotFound();
    }
  }

  /**
   * etcd 0.1.2's {@code -cors}: a request from an allowed origin gets
   * {@code Access-Control-Allow-Origin} (the origin, or {@code *} when any is allowed). A CORS
   * preflight ({@code OPTIONS} with {@code Access-Control-Request-Method}) from an allowed origin is
   * answered here (etcd 0.1.2 answered it 405, which browsers treat as a refusal). Returns whether
   * the request has been answered.
   */
  private boolean cors(Exchange exchange, FullHttpRequest request) {
    String origin = request.headers().get(io.netty.handler.codec.http.HttpHeaderNames.ORIGIN);
    if (origin == null) {
      return false;
    }
    String allowed = corsOrigins.contains("*") ? "*" : corsOrigins.contains(origin) ? origin : null;
    if (allowed == null) {
      return false;
    }
    exchange.allowOrigin(allowed);
    if (request.method().equals(io.netty.handler.codec.http.HttpMethod.OPTIONS)
        && request.headers().contains(io.netty.handler.codec.http.HttpHeaderNames.ACCESS_CONTROL_REQUEST_METHOD)) {
      io.netty.handler.codec.http.FullHttpResponse preflight =
          HttpResponses.empty(exchange.version(), io.netty.handler.codec.http.HttpResponseStatus.OK);
      preflight.headers()
          .set(io.netty.handler.codec.http.HttpHeaderNames.ACCESS_CONTROL_ALLOW_METHODS, "POST, GET, PUT, DELETE")
          .set(io.netty.handler.codec.http.HttpHeaderNames.ACCESS_CONTROL_ALLOW_HEADERS, "Content-Type")
          .set(io.netty.handler.codec.http.HttpHeaderNames.ACCESS_CONTROL_MAX_AGE, "600");
      exchange.respond(preflight);
      return true;
    }
    return false;
  }

  /** Everything but unknown paths (which stay 404) waits for the node to be ready. */
  private static boolean answersOnlyWhenReady(String path) {
    return path.startsWith("/v1/") || path.startsWith("/remove/") || path.equals("/version") || path.equals("/");
  }

  /** {@code path} is {@code prefix} itself or lies below it. */
  static boolean isUnder(String path, String prefix) {
    return path.startsWith(prefix) && (path.length() == prefix.length() || path.charAt(prefix.length()) == '/');
  }
}
