package org.etcdjvm.faults.check;

import java.util.Objects;

/**
 * One client operation of a recorded history: what was asked (at {@link #invoke}) and what came of
 * it (at {@link #complete}). Times are {@link System#nanoTime()} of the recording JVM.
 *
 * <p>Outcomes: {@link Outcome#OK} the server said it was done; {@link Outcome#FAIL} the server said
 * it was not done (or nothing was sent); {@link Outcome#UNKNOWN} it may or may not have taken
 * effect, now or later (timeout, connection lost after sending, "outcome unknown" errors).
 *
 * <p>An operation may carry an <em>observation</em> of the key's state that the server reported:
 * a read's result, the {@code prevValue} (or {@code newKey}) of an acknowledged set or delete, the
 * current value named by a failed compare (error 101) or its absence (error 100).
 * {@code observed == null} with {@link #hasObservation} true means "the key did not exist".
 */
public final class Op {
  /** What an operation does to one key. */
  public enum Kind {
    /** A linearizable read (consistent read, or a compare through the log that cannot match). */
    READ,
    /** A plain set. */
    WRITE,
    /** Test-and-set: {@code expect} -> {@code value}. */
    CAS,
    /** Test-and-set with an empty prevValue: only if absent. */
    CREATE,
    /** Delete. */
    DELETE,
    /** A set of a key written exactly once (the lost-write workload). */
    ONCE,
    /** A set of a key written once with a TTL (the expiry workload). */
    TTL
  }

  /** What came of an operation. */
  public enum Outcome {
    OK,
    FAIL,
    UNKNOWN
  }

  public final int id;
  public final int process;
  public final Kind kind;
  public final String key;
  public final String value;
  public final String expect;
  public final long invoke;
  /** Wall-clock milliseconds at the call (for comparing with the server's times). */
  public final long invokeWall = System.currentTimeMillis();
  public final String node;

  private long complete = Long.MAX_VALUE;
  private Outcome outcome;
  private boolean hasObservation;
  private String observed;
  private long index = -1;
  private String error;
  private String expiration;
  private long ttlSeconds;

  public Op(int id, int process, Kind kind, String key, String value, String expect, long invoke, String node) {
    this.id = id;
    this.process = process;
    this.kind = Objects.requireNonNull(kind);
    this.key = Objects.requireNonNull(key);
    this.value = value;
    this.expect = expect;
    this.invoke = invoke;
    this.node = node;
  }

  /** Records the outcome; {@code index} -1 when the reply named none. */
  public synchronized Op complete(long at, Outcome outcome, long index, String error) {
    this.complete = at;
    this.outcome = Objects.requireNonNull(outcome);
    this.index = index;
    this.error = error;
    return this;
  }

  /** The key's state the server reported ({@code null} = absent). */
  public synchronized Op observe(String state) {
    this.hasObservation = true;
    this.observed = state;
    return this;
  }

  /** The TTL a {@link Kind#TTL} write asked for. */
  public synchronized Op ttl(long seconds) {
    this.ttlSeconds = seconds;
    return this;
  }

  public synchronized long ttl() {
    return ttlSeconds;
  }

  public synchronized Op expiration(String expiration) {
    this.expiration = expiration;
    return this;
  }

  public synchronized long complete() {
    return complete;
  }

  public synchronized Outcome outcome() {
    return outcome;
  }

  public synchronized boolean done() {
    return outcome != null;
  }

  public synchronized boolean hasObservation() {
    return hasObservation;
  }

  public synchronized String observed() {
    return observed;
  }

  public synchronized long index() {
    return index;
  }

  public synchronized String error() {
    return error;
  }

  public synchronized String expiration() {
    return expiration;
  }

  /** True for operations that change the key when they take effect. */
  public boolean isWrite() {
    return kind != Kind.READ;
  }

  /** One line, Jepsen-like, with times relative to {@code origin} (nanoTime). */
  public synchronized String describe(long origin) {
    StringBuilder b = new StringBuilder();
    b.append(String.format("p%-2d %-6s %s", process, kind.name().toLowerCase(java.util.Locale.ROOT), key));
    switch (kind) {
      case CAS -> b.append(" [").append(expect).append(" -> ").append(value).append(']');
      case READ, DELETE -> { }
      default -> b.append(' ').append(value);
    }
    b.append(String.format("  [%.3f s .. %s]", (invoke - origin) / 1e9,
        complete == Long.MAX_VALUE ? "?" : String.format("%.3f s", (complete - origin) / 1e9)));
    b.append(' ').append(outcome == null ? "PENDING" : outcome.name());
    if (hasObservation) {
      b.append(kind == Kind.READ ? " read=" : " saw=").append(observed == null ? "<absent>" : observed);
    }
    if (index >= 0) {
      b.append(" index=").append(index);
    }
    if (error != null) {
      b.append(" (").append(error).append(')');
    }
    if (node != null) {
      b.append(" via ").append(node);
    }
    return b.toString();
  }

  @Override
  public String toString() {
    return describe(0);
  }
}
