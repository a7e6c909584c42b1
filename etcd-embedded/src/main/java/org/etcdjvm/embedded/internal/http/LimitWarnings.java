package org.etcdjvm.embedded.internal.http;

import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.function.Consumer;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The WARN lines for clients that run into a limit: at most one a minute per kind of limit, naming
 * the client's address and how many more hit the same limit since the last line. A client that
 * floods the node must not flood the log too; one line a minute is enough to find it.
 *
 * <p>Thread-safe and lock-free. No stack traces: running into a limit is an expected condition.
 */
final class LimitWarnings {
  private static final Logger log = LoggerFactory.getLogger(LimitWarnings.class);
  static final long INTERVAL_NANOS = TimeUnit.MINUTES.toNanos(1);

  /** One line a minute for each of these. */
  enum Kind {
    CONNECTIONS,
    CONNECTIONS_PER_ADDRESS,
    REQUEST_BYTES,
    REQUEST_BYTES_PER_ADDRESS,
    SLOW_REQUEST,
    SLOW_READER,
    FORM_FIELDS,
    WATCHERS,
    WATCHERS_PER_ADDRESS,
    PENDING_WRITES,
    PENDING_WRITES_PER_ADDRESS,
    /** Not a refusal: an address's request waits for one of its requests in progress to end. */
    REQUESTS_IN_PROGRESS_PER_ADDRESS,
    LISTING_SIZE,
    /** Plain HTTP (or anything but TLS) on an HTTPS port. */
    NOT_TLS,
    /** A TLS handshake that failed: no client certificate, an untrusted one, no common protocol. */
    TLS_HANDSHAKE
  }

  private final LongSupplier nanoClock;
  private final Consumer<String> sink;
  /** Per kind: the earliest time the next line may be written. */
  private final AtomicLongArray nextLine = new AtomicLongArray(Kind.values().length);
  private final AtomicLong[] heldBack = new AtomicLong[Kind.values().length];

  /** Writes to this class's SLF4J logger at WARN. */
  LimitWarnings() {
    this(System::nanoTime, log::warn);
  }

  LimitWarnings(LongSupplier nanoClock, Consumer<String> sink) {
    this.nanoClock = nanoClock;
    this.sink = sink;
    long start = nanoClock.getAsLong();
    for (int i = 0; i < heldBack.length; i++) {
      heldBack[i] = new AtomicLong();
      nextLine.set(i, start);
    }
  }

  /**
   * Reports that {@code client} ran into a limit of this kind; writes a line unless one of the same
   * kind was written less than a minute ago.
   *
   * @param what what happened and which limit, e.g. {@code "connection refused: 2000 open from this
   *     address (maxConnectionsPerAddress)"}
   */
  void warn(Kind kind, SocketAddress client, String what) {
    int i = kind.ordinal();
    long now = nanoClock.getAsLong();
    long next = nextLine.get(i);
    if (now - next < 0 || !nextLine.compareAndSet(i, next, now + INTERVAL_NANOS)) {
      heldBack[i].incrementAndGet();
      return;
    }
    long more = heldBack[i].getAndSet(0);
    sink.accept(describe(client) + ": " + what
        + (more == 0 ? "" : " (and " + more + " more like this in the last minute)"));
  }

  static String describe(SocketAddress client) {
    if (client instanceof InetSocketAddress inet && inet.getAddress() != null) {
      return "client " + inet.getAddress().getHostAddress() + ":" + inet.getPort();
    }
    return "client " + client;
  }
}
