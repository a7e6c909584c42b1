package org.etcdjvm.embedded.internal.http;

import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.util.Queue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.etcdjvm.embedded.internal.http.LimitWarnings.Kind;

/**
 * What the clients of one server may hold at once, per client address and all together:
 * connections, and request bytes buffered in memory (bodies being received, pipelined requests
 * waiting their turn, writes waiting for Raft). Every "no" is reported through {@link
 * LimitWarnings}.
 *
 * <p>Per-address shares keep one client from taking what the node has for everyone: with only a
 * node-wide cap, one client opening 10 000 idle connections, or 150 connections each sending most
 * of a 2 MiB body, locked every other client out.
 *
 * <p>Thread-safe. A {@link Client} is looked up once per connection; after that every check is an
 * atomic add on the client's own counters and the node's.
 */
final class Admission {
  private final HttpConfig config;
  private final LimitWarnings warnings;
  private final ConcurrentHashMap<Object, Client> clients = new ConcurrentHashMap<>();
  private final AtomicInteger connections = new AtomicInteger();
  private final AtomicLong bufferedBytes = new AtomicLong();
  private final AtomicInteger pendingWrites = new AtomicInteger();
  private final String turnsWarning;

  Admission(HttpConfig config, LimitWarnings warnings) {
    this.config = config;
    this.warnings = warnings;
    this.turnsWarning = "request waits unread: " + config.maxRequestsInProgressPerAddress()
        + " requests from this address in progress (maxRequestsInProgressPerAddress)";
  }

  LimitWarnings warnings() {
    return warnings;
  }

  /** What one client address holds. Counters other than {@code connections} are atomics. */
  static final class Client {
    private final Object key;
    /** Guarded by the map entry (changed only inside {@code compute}). */
    private int connections;
    private final AtomicLong bufferedBytes = new AtomicLong();
    private final AtomicInteger watchers = new AtomicInteger();
    private final AtomicInteger pendingWrites = new AtomicInteger();
    /** Requests in progress (see {@link #takeTurn}). */
    private final AtomicInteger turns = new AtomicInteger();
    /** Connections waiting for a turn, each as the callback that hands it one. */
    private final Queue<Runnable> waitingForTurn = new ConcurrentLinkedQueue<>();

    private Client(Object key) {
      this.key = key;
    }
  }

  /**
   * Counts a new connection from {@code remote}.
   *
   * @return its client, or null when the node or that address has no connection to spare (the
   *     caller closes it before reading anything)
   */
  Client admitConnection(SocketAddress remote) {
    if (connections.incrementAndGet() > config.maxConnections()) {
      connections.decrementAndGet();
      warnings.warn(Kind.CONNECTIONS, remote, "connection refused: " + config.maxConnections()
          + " connections open on this node (maxConnections)");
      return null;
    }
    Object key = keyOf(remote);
    Client[] admitted = new Client[1];
    clients.compute(key, (k, client) -> {
      Client c = client != null ? client : new Client(k);
      if (c.connections < config.maxConnectionsPerAddress()) {
        c.connections++;
        admitted[0] = c;
      }
      return c.connections == 0 ? null : c;
    });
    if (admitted[0] == null) {
      connections.decrementAndGet();
      warnings.warn(Kind.CONNECTIONS_PER_ADDRESS, remote, "connection refused: "
          + config.maxConnectionsPerAddress() + " connections open from this address (maxConnectionsPerAddress)");
    }
    return admitted[0];
  }

  /** The connection of {@code client} closed. */
  void releaseConnection(Client client) {
    connections.decrementAndGet();
    clients.computeIfPresent(client.key, (k, c) -> c == client && --c.connections == 0 ? null : c);
  }

  /** The {@code cause} of a 503 for a request over the node's budget of buffered request bytes. */
  static final String NODE_BYTES = "too many request bytes buffered on this node";
  /** The {@code cause} of a 503 for a request over its address's share of that budget. */
  static final String ADDRESS_BYTES = "too many request bytes buffered from this address";

  /**
   * Reserves {@code bytes} of request data from {@code client} (connected from {@code remote})
   * against its share and the node's.
   *
   * @return null when reserved; else, reserving nothing, the {@code cause} for the 503
   */
  String reserveBytes(Client client, SocketAddress remote, long bytes) {
    if (!tryAdd(client.bufferedBytes, bytes, config.maxBufferedRequestBytesPerAddress())) {
      warnings.warn(Kind.REQUEST_BYTES_PER_ADDRESS, remote, "request of " + bytes
          + " bytes refused (503): " + client.bufferedBytes.get() + " request bytes buffered from this address"
          + " (maxBufferedRequestBytesPerAddress " + config.maxBufferedRequestBytesPerAddress() + ")");
      return ADDRESS_BYTES;
    }
    if (!tryAdd(bufferedBytes, bytes, config.maxBufferedRequestBytes())) {
      client.bufferedBytes.addAndGet(-bytes);
      warnings.warn(Kind.REQUEST_BYTES, remote, "request of " + bytes + " bytes refused (503): "
          + bufferedBytes.get() + " request bytes buffered on this node (maxBufferedRequestBytes "
          + config.maxBufferedRequestBytes() + ")");
      return NODE_BYTES;
    }
    return null;
  }

  void releaseBytes(Client client, long bytes) {
    client.bufferedBytes.addAndGet(-bytes);
    bufferedBytes.addAndGet(-bytes);
  }

  /** The {@code cause} of a 503 for a watch over its address's share of watchers. */
  static final String ADDRESS_WATCHERS = "too many watchers from this address";

  /**
   * Takes a watcher slot of {@code client}'s address.
   *
   * @return false, taking nothing, when the address has {@link HttpConfig#maxWatchersPerAddress()}
   *     already (the caller reports it with {@link #watchRefused} if it does refuse the watch)
   */
  boolean acquireWatcher(Client client) {
    while (true) {
      int n = client.watchers.get();
      if (n >= config.maxWatchersPerAddress()) {
        return false;
      }
      if (client.watchers.compareAndSet(n, n + 1)) {
        return true;
      }
    }
  }

  void releaseWatcher(Client client) {
    client.watchers.decrementAndGet();
  }

  /** Reports a watch from {@code remote} refused for want of a slot of its address. */
  void watchRefused(SocketAddress remote) {
    warnings.warn(Kind.WATCHERS_PER_ADDRESS, remote, "watch refused (503): "
        + config.maxWatchersPerAddress() + " watches waiting from this address (maxWatchersPerAddress)");
  }

  /** The {@code cause} of a 503 for a write over the bound of the write queue. */
  static final String PENDING_WRITES = "too many pending writes";
  /** The {@code cause} of a 503 for a write over its address's share of the write queue. */
  static final String ADDRESS_PENDING_WRITES = "too many pending writes from this address";

  /**
   * Counts a write of {@code client} (connected from {@code remote}) about to be submitted to Raft.
   *
   * @return null when counted; else, counting nothing, the {@code cause} of the 503 (the write must
   *     not be submitted), reported naming {@code remote}
   */
  String startWrite(Client client, SocketAddress remote) {
    if (!tryIncrement(client.pendingWrites, config.maxPendingWritesPerAddress())) {
      warnings.warn(Kind.PENDING_WRITES_PER_ADDRESS, remote, "write refused (503): "
          + config.maxPendingWritesPerAddress() + " writes from this address waiting for Raft (maxPendingWritesPerAddress)");
      return ADDRESS_PENDING_WRITES;
    }
    if (!tryIncrement(pendingWrites, config.maxPendingWrites())) {
      client.pendingWrites.decrementAndGet();
      warnings.warn(Kind.PENDING_WRITES, remote, "write refused (503): " + config.maxPendingWrites()
          + " writes waiting for Raft on this node (maxPendingWrites)");
      return PENDING_WRITES;
    }
    return null;
  }

  /** A write counted by {@link #startWrite} completed, one way or another. */
  void endWrite(Client client) {
    client.pendingWrites.decrementAndGet();
    pendingWrites.decrementAndGet();
  }

  /**
   * Takes one of {@code client}'s turns for a request about to be worked on: at most {@link
   * HttpConfig#maxRequestsInProgressPerAddress()} of one address's requests are in progress at
   * once. One address's requests then cannot fill the event loops' every round, so another
   * client's request is taken up within a bounded amount of work, however many connections the
   * first opens (a write flood from 1 500 connections pushed a light client's p99 past 100 ms).
   *
   * @return false, taking nothing, when the address has no turn to spare; the caller then waits
   *     with {@link #awaitTurn}
   */
  boolean takeTurn(Client client) {
    return tryIncrement(client.turns, config.maxRequestsInProgressPerAddress());
  }

  /**
   * Queues {@code grant} of a connection from {@code remote} (reported as a limit reached), to be
   * run once a turn is free and taken for it, on the thread that freed it (so it must only hand
   * off). Fair: turns go to waiters in the order they asked.
   */
  void awaitTurn(Client client, SocketAddress remote, Runnable grant) {
    warnings.warn(Kind.REQUESTS_IN_PROGRESS_PER_ADDRESS, remote, turnsWarning);
    client.waitingForTurn.add(grant);
    grantTurns(client); // the turns may all have been given back since takeTurn failed
  }

  /** Gives back a turn taken by {@link #takeTurn} or granted through {@link #awaitTurn}. */
  void releaseTurn(Client client) {
    client.turns.decrementAndGet();
    grantTurns(client);
  }

  /**
   * Hands free turns to waiters. No wake-up is lost: whoever adds a waiter or frees a turn calls
   * this afterwards, so either it finds the other's change or the other's call finds its own.
   */
  private void grantTurns(Client client) {
    while (!client.waitingForTurn.isEmpty() && tryIncrement(client.turns, config.maxRequestsInProgressPerAddress())) {
      Runnable next = client.waitingForTurn.poll();
      if (next == null) {
        client.turns.decrementAndGet(); // another thread took the waiter; look again
        continue;
      }
      next.run();
    }
  }

  private static boolean tryIncrement(AtomicInteger counter, int limit) {
    while (true) {
      int n = counter.get();
      if (n >= limit) {
        return false;
      }
      if (counter.compareAndSet(n, n + 1)) {
        return true;
      }
    }
  }

  /** Open client connections. */
  int connections() {
    return connections.get();
  }

  /** Request bytes buffered right now, all clients together. */
  long bufferedBytes() {
    return bufferedBytes.get();
  }

  private static boolean tryAdd(AtomicLong counter, long delta, long limit) {
    while (true) {
      long now = counter.get();
      if (now + delta > limit) {
        return false;
      }
      if (counter.compareAndSet(now, now + delta)) {
        return true;
      }
    }
  }

  /** Clients are told apart by IP address (not port); anything else (tests' in-memory channels) is one client. */
  private static Object keyOf(SocketAddress remote) {
    if (remote instanceof InetSocketAddress inet && inet.getAddress() != null) {
      return inet.getAddress();
    }
    return "local";
  }
}
