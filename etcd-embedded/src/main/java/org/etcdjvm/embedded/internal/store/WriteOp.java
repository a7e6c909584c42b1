package org.etcdjvm.embedded.internal.store;

/**
 * One replicated write to the store. Immutable and thread-safe.
 *
 * <p>{@link #internal()} marks writes made by the node itself (cluster membership under
 * {@code /_etcd/machines/...}); only those may touch the reserved prefixes.
 */
public sealed interface WriteOp permits SetOp, DeleteOp {
  /** The key as given; the store cleans and validates it again when applying. */
  String key();

  /** Whether the node itself issued this write (may write reserved prefixes). */
  boolean internal();
}
