package org.etcdjvm.embedded.internal.store;

import java.time.Instant;
import java.util.Objects;

/**
 * A set, create-if-absent, or test-and-set. Immutable and thread-safe.
 *
 * <p>prevValue null = plain set; "" = create only if absent; other = test-and-set. expiration null =
 * permanent. internal = written by the node itself (may write the reserved prefixes, e.g.
 * /_etcd/machines/&lt;name&gt;).
 *
 * @param key        the key (cleaned again by the store)
 * @param value      the new value; must be non-empty or the write fails with error 200
 * @param prevValue  see above; nullable
 * @param expiration absolute expiry time, or null for a permanent key; a time already past makes the
 *     key expire at the next {@link EtcdStore#expire}
 * @param internal   whether the node itself issued the write
 */
public record SetOp(String key, String value, String prevValue, Instant expiration, boolean internal)
    implements WriteOp {
  public SetOp {
    Objects.requireNonNull(key, "key");
  }
}
