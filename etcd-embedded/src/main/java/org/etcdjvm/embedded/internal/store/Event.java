package org.etcdjvm.embedded.internal.store;

import java.time.Instant;
import java.util.Objects;

/**
 * One etcd v1 response object (v1-api.md Part B §2): the result of a write, an expiry, a watch
 * notification, or one entry of a GET. Immutable and thread-safe.
 *
 * <p>Null and false fields are left out on the wire; {@code ttl} is not stored here because it
 * depends on when the response is rendered (see {@code V1Json}).
 *
 * @param action     GET, SET or DELETE
 * @param key        the clean absolute key, e.g. {@code /foo/bar}
 * @param dir        true only for directory entries of a listing
 * @param prevValue  the previous value (SET over an existing key, DELETE, expiry), or null
 * @param value      the value (GET of a file, SET), or null
 * @param newKey     true only on a SET that created the key
 * @param expiration the key's expiry time, or null for a permanent key
 * @param index      the store index of this write, or the current index for a read
 */
public record Event(
    Action action,
    String key,
    boolean dir,
    String prevValue,
    String value,
    boolean newKey,
    Instant expiration,
    long index) {
  public Event {
    Objects.requireNonNull(action, "action");
    Objects.requireNonNull(key, "key");
  }
}
