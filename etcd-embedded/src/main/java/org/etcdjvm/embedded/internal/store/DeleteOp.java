package org.etcdjvm.embedded.internal.store;

import java.util.Objects;

/**
 * Deletes one file. Directories cannot be deleted (error 100). Immutable and thread-safe.
 *
 * @param key      the key (cleaned again by the store)
 * @param internal whether the node itself issued the write (may delete under reserved prefixes)
 */
public record DeleteOp(String key, boolean internal) implements WriteOp {
  public DeleteOp {
    Objects.requireNonNull(key, "key");
  }
}
