package org.etcdjvm.examples;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.etcdjvm.client.EtcdClient;
import org.etcdjvm.client.EtcdException;

/**
 * A tiny HTTP service that announces itself for discovery, as etcd's guide describes: it answers
 * every request with {@code hello from <name>} and keeps {@code <prefix>/<name> = 127.0.0.1:<port>}
 * alive with a TTL, re-setting the key (a heartbeat) every third of the TTL. If it stops
 * heartbeating — it hangs, crashes, or loses the network — the key expires and it drops out of
 * every proxy that watches the prefix.
 */
public final class Backend implements Closeable {
  private final EtcdClient etcd;
  private final String key;
  private final String name;
  private final Duration ttl;
  private final HttpServer server;
  private final ExecutorService handlers;
  private final ScheduledExecutorService heartbeat;
  private final AtomicInteger requests = new AtomicInteger();

  private Backend(EtcdClient etcd, String prefix, String name, Duration ttl) throws IOException {
    this.etcd = etcd;
    this.key = prefix.replaceAll("/+$", "") + "/" + name;
    this.name = name;
    this.ttl = ttl;
    this.server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    this.handlers = Executors.newFixedThreadPool(4, Examples.daemonThreads("backend-" + name));
    this.heartbeat = Executors.newSingleThreadScheduledExecutor(Examples.daemonThreads("heartbeat-" + name));
  }

  /**
   * Starts serving on a free loopback port and announces the backend under {@code prefix}; returns
   * once the announcement is acknowledged.
   */
  public static Backend start(EtcdClient etcd, String prefix, String name, Duration ttl)
      throws IOException, EtcdException {
    Backend backend = new Backend(etcd, prefix, name, ttl);
    backend.server.createContext("/", backend::answer);
    backend.server.setExecutor(backend.handlers);
    backend.server.start();
    try {
      backend.announce();
    } catch (IOException | EtcdException | RuntimeException e) {
      backend.server.stop(0);
      backend.handlers.shutdownNow();
      backend.heartbeat.shutdownNow();
      throw e;
    }
    long period = Math.max(1, ttl.toMillis() / 3);
    backend.heartbeat.scheduleWithFixedDelay(backend::beat, period, period, TimeUnit.MILLISECONDS);
    return backend;
  }

  private void announce() throws IOException, EtcdException {
    etcd.set(key, address()).ttl(ttl).send();
  }

  private void beat() {
    try {
      announce();
    } catch (IOException | EtcdException e) {
      // etcd unreachable for now: the next beat tries again; the key lives for the rest of its TTL
    }
  }

  private void answer(HttpExchange exchange) throws IOException {
    try (InputStream body = exchange.getRequestBody()) {
      body.readAllBytes();
    }
    requests.incrementAndGet();
    byte[] reply = ("hello from " + name + "\n").getBytes(StandardCharsets.UTF_8);
    exchange.getResponseHeaders().set("Content-Type", "text/plain; charset=utf-8");
    exchange.getResponseHeaders().set("X-Backend", name);
    exchange.sendResponseHeaders(200, reply.length);
    exchange.getResponseBody().write(reply);
    exchange.close();
  }

  /** This backend's name, the last segment of its key. */
  public String name() {
    return name;
  }

  /** Where it serves, {@code 127.0.0.1:<port>}: the value it announces. */
  public String address() {
    return "127.0.0.1:" + server.getAddress().getPort();
  }

  /** How many requests it has answered. */
  public int requests() {
    return requests.get();
  }

  /** Stops refreshing the key but keeps serving, as a backend cut off from etcd would; the key expires after its TTL. */
  public void stopHeartbeat() {
    heartbeat.shutdownNow();
  }

  /** Deregisters (deletes its key, if etcd answers) and stops serving. */
  @Override
  public void close() {
    heartbeat.shutdownNow();
    try {
      etcd.delete(key).send();
    } catch (IOException | EtcdException e) {
      // already expired, or etcd is gone: the key expires by itself
    }
    server.stop(0);
    handlers.shutdownNow();
  }
}
