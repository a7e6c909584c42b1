package org.etcdjvm.client;

import java.time.Instant;
import java.util.Objects;

/**
 * One change seen by a {@link Watch}: what kind of change, the server's response object, and when
 * the client received it. Immutable.
 */
public final class WatchEvent {
  /** The kind of change. */
  public enum Type {
    /** A set, compare-and-set or create ({@code "action":"SET"}). */
    SET,
    /** A delete ({@code "action":"DELETE"}) that is not an expiry. */
    DELETE,
    /**
     * A key's TTL ran out. etcd v1 reports an expiry as a {@code "DELETE"} carrying the key's
     * {@code expiration}; a watch calls it an expiry when that expiration is not later than the
     * moment the event was received plus the watch's {@linkplain Watch.Builder#expiryTolerance
     * expiry tolerance} (default 1 s, for clock skew between client and server). A manual delete
     * of a TTL key also carries the expiration, but one in the future, so it stays a {@link
     * #DELETE}, unless it was made within the tolerance of the expiry, or is replayed from history
     * after its expiration had passed.
     */
    EXPIRE
  }

  private final Type type;
  private final EtcdResponse response;
  private final Instant receivedAt;

  /** Made by a watch; public for tests and fakes. */
  public WatchEvent(Type type, EtcdResponse response, Instant receivedAt) {
    this.type = Objects.requireNonNull(type, "type == null");
    this.response = Objects.requireNonNull(response, "response == null");
    this.receivedAt = Objects.requireNonNull(receivedAt, "receivedAt == null");
  }

  /** Set, delete or expiry. */
  public Type type() {
    return type;
  }

  /** The event exactly as the server sent it. */
  public EtcdResponse response() {
    return response;
  }

  /** When the client read the event off the wire. */
  public Instant receivedAt() {
    return receivedAt;
  }

  /** Shorthand for {@code response().key()}. */
  public String key() {
    return response.key();
  }

  /** Shorthand for {@code response().value()}: the new value of a set; null otherwise. */
  public String value() {
    return response.value();
  }

  /** Shorthand for {@code response().prevValue()}. */
  public String prevValue() {
    return response.prevValue();
  }

  /** Shorthand for {@code response().index()}: the index of the write that caused the event. */
  public long index() {
    return response.index();
  }

  @Override public boolean equals(Object o) {
    if (this == o) return true;
    if (!(o instanceof WatchEvent)) return false;
    WatchEvent that = (WatchEvent) o;
    return type == that.type && response.equals(that.response) && receivedAt.equals(that.receivedAt);
  }

  @Override public int hashCode() {
    return Objects.hash(type, response, receivedAt);
  }

  @Override public String toString() {
    return "WatchEvent{" + type + " " + response.key() + " @" + response.index() + "}";
  }
}
