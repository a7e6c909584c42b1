package org.etcdjvm.client;

import java.time.Duration;
import java.time.Instant;
import java.util.Objects;

/**
 * One etcd v1 response object: the result of a get, set, compare-and-set, create or delete, one
 * entry of a directory listing, or one watch event.
 *
 * <p>Fields follow the wire format exactly: {@code action} is upper case ({@code "GET"}, {@code
 * "SET"} or {@code "DELETE"}); an expiry arrives as a {@code "DELETE"} that carries an {@link
 * #expiration()} (see {@link WatchEvent.Type#EXPIRE} for how a watch tells the two apart). Absent
 * string fields are {@code null}, absent booleans {@code false}.
 *
 * <p>Immutable and thread-safe. Use {@link #builder()} to make one, for example in tests.
 */
public final class EtcdResponse {
  private final String action;
  private final String key;
  private final String value;
  private final String prevValue;
  private final boolean newKey;
  private final boolean dir;
  private final Instant expiration;
  private final Duration ttl;
  private final long index;

  private EtcdResponse(Builder builder) {
    this.action = Objects.requireNonNull(builder.action, "action == null");
    this.key = Objects.requireNonNull(builder.key, "key == null");
    this.value = builder.value;
    this.prevValue = builder.prevValue;
    this.newKey = builder.newKey;
    this.dir = builder.dir;
    this.expiration = builder.expiration;
    this.ttl = builder.ttl;
    this.index = builder.index;
  }

  /** {@code "GET"}, {@code "SET"} or {@code "DELETE"}, exactly as the server sent it. */
  public String action() {
    return action;
  }

  /** The absolute, normalised key, such as {@code "/foo/bar"}. */
  public String key() {
    return key;
  }

  /** The value after the operation; null for a delete, an expiry and a directory entry. */
  public String value() {
    return value;
  }

  /** The value before a set that replaced one, or the deleted/expired value; otherwise null. */
  public String prevValue() {
    return prevValue;
  }

  /** True only on a set that created the key. */
  public boolean newKey() {
    return newKey;
  }

  /** True only for a directory entry in a listing. */
  public boolean dir() {
    return dir;
  }

  /** When the key expires (or expired); null for a key without a TTL. */
  public Instant expiration() {
    return expiration;
  }

  /**
   * The time to live the server reported, in whole seconds (rounded down when the response was
   * built, so {@code ttl=5} usually reads back as 4 s). Null when the key has no TTL; {@link
   * Duration#ZERO} when the response has an {@link #expiration()} but no {@code ttl} (less than
   * one second left, or a delete or expiry).
   */
  public Duration ttl() {
    return ttl;
  }

  /**
   * The etcd index: for a write, the index of that write; for a read, the store's current index
   * (not the index at which the key last changed).
   */
  public long index() {
    return index;
  }

  /** A builder initialised with this response's fields. */
  public Builder newBuilder() {
    return new Builder(this);
  }

  /** An empty builder; {@code action} and {@code key} must be set before {@code build()}. */
  public static Builder builder() {
    return new Builder();
  }

  @Override public boolean equals(Object o) {
    if (this == o) return true;
    if (!(o instanceof EtcdResponse)) return false;
    EtcdResponse that = (EtcdResponse) o;
    return newKey == that.newKey
        && dir == that.dir
        && index == that.index
        && action.equals(that.action)
        && key.equals(that.key)
        && Objects.equals(value, that.value)
        && Objects.equals(prevValue, that.prevValue)
        && Objects.equals(expiration, that.expiration)
        && Objects.equals(ttl, that.ttl);
  }

  @Override public int hashCode() {
    return Objects.hash(action, key, value, prevValue, newKey, dir, expiration, ttl, index);
  }

  @Override public String toString() {
    StringBuilder s = new StringBuilder("EtcdResponse{action=").append(action).append(", key=").append(key);
    if (dir) s.append(", dir=true");
    if (prevValue != null) s.append(", prevValue=").append(prevValue);
    if (value != null) s.append(", value=").append(value);
    if (newKey) s.append(", newKey=true");
    if (expiration != null) s.append(", expiration=").append(expiration);
    if (ttl != null) s.append(", ttl=").append(ttl.getSeconds()).append('s');
    return s.append(", index=").append(index).append('}').toString();
  }

  /** Builds an {@link EtcdResponse}. {@code action} and {@code key} are required. Not thread-safe. */
  public static final class Builder {
    private String action;
    private String key;
    private String value;
    private String prevValue;
    private boolean newKey;
    private boolean dir;
    private Instant expiration;
    private Duration ttl;
    private long index;

    Builder() {}

    Builder(EtcdResponse response) {
      this.action = response.action;
      this.key = response.key;
      this.value = response.value;
      this.prevValue = response.prevValue;
      this.newKey = response.newKey;
      this.dir = response.dir;
      this.expiration = response.expiration;
      this.ttl = response.ttl;
      this.index = response.index;
    }

    /** Required. */
    public Builder action(String action) {
      this.action = Objects.requireNonNull(action, "action == null");
      return this;
    }

    /** Required. */
    public Builder key(String key) {
      this.key = Objects.requireNonNull(key, "key == null");
      return this;
    }

    /** May be null. */
    public Builder value(String value) {
      this.value = value;
      return this;
    }

    /** May be null. */
    public Builder prevValue(String prevValue) {
      this.prevValue = prevValue;
      return this;
    }

    /** Default false. */
    public Builder newKey(boolean newKey) {
      this.newKey = newKey;
      return this;
    }

    /** Default false. */
    public Builder dir(boolean dir) {
      this.dir = dir;
      return this;
    }

    /** May be null. */
    public Builder expiration(Instant expiration) {
      this.expiration = expiration;
      return this;
    }

    /** May be null; must not be negative. */
    public Builder ttl(Duration ttl) {
      if (ttl != null && ttl.isNegative()) throw new IllegalArgumentException("ttl < 0: " + ttl);
      this.ttl = ttl;
      return this;
    }

    /** Default 0; must not be negative. */
    public Builder index(long index) {
      if (index < 0) throw new IllegalArgumentException("index < 0: " + index);
      this.index = index;
      return this;
    }

    /** @throws NullPointerException if {@code action} or {@code key} is unset */
    public EtcdResponse build() {
      return new EtcdResponse(this);
    }
  }
}
