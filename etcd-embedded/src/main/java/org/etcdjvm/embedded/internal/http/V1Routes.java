package org.etcdjvm.embedded.internal.http;

import io.netty.handler.codec.http.FullHttpRequest;
import org.etcdjvm.embedded.internal.raft.Replica;

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

  V1Routes(Replica replica, HttpConfig config) {
    StoreStats stats = new StoreStats();
    this.keys = new KeysRoute(replica, stats, config);
    this.watch = new WatchRoute(replica, config);
    this.cluster = new ClusterRoutes(replica, stats);
  }

  /** Answers {@code request} now or arranges for it to be answered. {@code request} is released after. */
  void dispatch(Exchange exchange, FullHttpRequest request) {
    String path = exchange.rawPath();
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
    } else if (path.equals("/version")) {
      cluster.version(exchange);
    } else {
      exchange.respondNotFound();
    }
  }

  /** {@code path} is {@code prefix} itself or lies below it. */
  static boolean isUnder(String path, String prefix) {
    return path.startsWith(prefix) && (path.length() == prefix.length() || path.charAt(prefix.length()) == '/');
  }
}
