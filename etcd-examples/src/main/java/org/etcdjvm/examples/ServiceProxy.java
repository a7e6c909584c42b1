package org.etcdjvm.examples;

import java.io.Closeable;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.etcdjvm.client.EtcdClient;
import org.etcdjvm.client.EtcdResponse;
import org.etcdjvm.client.Watch;
import org.etcdjvm.client.WatchEvent;
import org.etcdjvm.client.WatchResync;
import org.etcdjvm.embedded.EtcdNode;

/**
 * Service discovery, the use case of etcd's guide: containers announce themselves as {@code
 * /foo-service/<container> = <host:port>} (with a TTL they keep refreshing, so a dead container
 * drops out), and a proxy keeps its routing table up to date from watch callbacks alone.
 *
 * <p>Shows: a watch started {@link Watch.Builder#fromIndex(long) from index 1} with typed
 * callbacks. The server replays every announcement it still has; if its history no longer
 * reaches back that far, the watch calls {@link Watch.Builder#onResync onResync} with the current
 * listing instead. Either way the table is complete, and the watch then never misses a change.
 * (The replay costs one round trip per retained event under the prefix, once, at start.)
 * Callbacks for one watch run one at a time, so the table needs no lock; readers see an
 * immutable copy.
 */
public final class ServiceProxy implements Closeable {
  private final String prefix;
  private final Watch watch;
  private final AtomicInteger next = new AtomicInteger();
  /** container name -> host:port, sorted by name; replaced, never modified. */
  private volatile Map<String, String> routes = Map.of();

  /** Starts following {@code prefix} (such as {@code /foo-service}); returns once the watch runs. */
  public ServiceProxy(EtcdClient etcd, String prefix) {
    this.prefix = "/" + prefix.replaceAll("^/+|/+$", "") + "/"; // set before callbacks can run
    this.watch = etcd.watch(prefix).fromIndex(1)
        .onSet(e -> update(e.key(), e.value()))
        .onDelete(this::remove)
        .onExpire(this::remove)
        .onResync(this::replace)
        .start();
  }

  /** The routing table now: container name to {@code host:port}. */
  public Map<String, String> routes() {
    return routes;
  }

  /** The backend for the next request, round robin; null when no container is announced. */
  public String route() {
    List<String> backends = List.copyOf(routes.values());
    return backends.isEmpty() ? null : backends.get(Math.floorMod(next.getAndIncrement(), backends.size()));
  }

  private void update(String key, String address) {
    Map<String, String> copy = new TreeMap<>(routes);
    copy.put(name(key), address);
    routes = Collections.unmodifiableMap(copy);
  }

  private void remove(WatchEvent event) {
    Map<String, String> copy = new TreeMap<>(routes);
    copy.remove(name(event.key()));
    routes = Collections.unmodifiableMap(copy);
  }

  private void replace(WatchResync resync) {
    Map<String, String> fresh = new TreeMap<>();
    for (EtcdResponse entry : resync.entries()) {
      if (!entry.dir()) fresh.put(name(entry.key()), entry.value());
    }
    routes = Collections.unmodifiableMap(fresh);
  }

  private String name(String key) {
    return key.startsWith(prefix) ? key.substring(prefix.length()) : key;
  }

  @Override public void close() {
    watch.close();
  }

  /** Starts a node, a proxy, and announces, removes and expires a few containers. */
  public static void main(String[] args) throws Exception {
    run(System.out);
  }

  static void run(PrintStream out) throws Exception {
    Path dir = Files.createTempDirectory("etcd-service-proxy");
    try (EtcdNode node = EtcdNode.builder().dataDir(dir).clientAddress("127.0.0.1:0").peerAddress("127.0.0.1:0").build()) {
      node.start().get(30, TimeUnit.SECONDS);
      try (EtcdClient etcd = EtcdClient.builder().endpoints(node.clientUrl()).build()) {
        etcd.set("/foo-service/container1", "localhost:1111").send(); // announced before the proxy starts
        try (ServiceProxy proxy = new ServiceProxy(etcd, "/foo-service")) {
          etcd.set("/foo-service/container2", "localhost:2222").send();
          etcd.set("/foo-service/container3", "localhost:3333").ttl(Duration.ofSeconds(1)).send(); // never refreshed
          Thread.sleep(200);
          out.println("routes: " + proxy.routes() + "; next requests go to " + proxy.route() + ", " + proxy.route());
          etcd.delete("/foo-service/container1").send();
          Thread.sleep(2500); // container3's TTL runs out
          out.println("routes: " + proxy.routes());
        }
      }
    } finally {
      Examples.deleteRecursively(dir);
    }
  }
}
