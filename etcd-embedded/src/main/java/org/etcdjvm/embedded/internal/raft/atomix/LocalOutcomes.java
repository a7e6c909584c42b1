package org.etcdjvm.embedded.internal.raft.atomix;

import java.nio.ByteBuffer;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.TimeoutException;
import java.util.function.LongPredicate;

/**
 * Hands the outcome of this member's own commands from its replica to its command session in
 * memory, so that what travels back through Atomix is only a 9-byte reference to the command's log
 * index.
 *
 * <p>Why: Atomix 3.1 keeps every command's result in the submitting session's state, on every
 * member, until the client's next keep-alive acknowledges it, and our client's keep-alives run
 * every 27.5 s. A batch's outcomes carry each write's value and previous value, so a client writing
 * 100 KB values at 66 writes/s filled a 512 MB heap in 15 s (an {@link OutOfMemoryError} in Atomix's
 * threads, then 500s). A reference keeps about 100 bytes per command instead.
 *
 * <p>Every replica applies every command and produces the same outcome, so the member that
 * submitted a command can read the outcome from its own replica: {@link ServiceAdapter} offers each
 * applied command's outcome here, and it is kept only when the command came from this member's
 * current session ({@link #ownedBy}). When this member leads (the normal case) the outcome is here
 * before Atomix answers; when another member answered (leadership moved while the command was in
 * flight), {@link #outcome} waits for this replica to apply it.
 *
 * <p>Thread-safe. Holds at most {@link #MAX_KEPT} outcomes: the session keeps one command in flight,
 * so more are outcomes of commands it gave up on.
 */
final class LocalOutcomes {
  /** The first byte of a reference; never the first byte of our outcome encoding (0x52). */
  static final byte REFERENCE = 0x5F;
  static final int MAX_KEPT = 8;

  private final ConcurrentSkipListMap<Long, CompletableFuture<byte[]>> byIndex = new ConcurrentSkipListMap<>();
  private volatile LongPredicate ours = sessionId -> false;

  /** The reference that {@link ServiceAdapter} returns through Atomix for the command at {@code index}. */
  static byte[] reference(long index) {
    return ByteBuffer.allocate(9).put(REFERENCE).putLong(index).array();
  }

  /** Whether a command's result is a reference (a leader of an older version returns the outcome itself). */
  static boolean isReference(byte[] result) {
    return result != null && result.length == 9 && result[0] == REFERENCE;
  }

  static long index(byte[] reference) {
    return ByteBuffer.wrap(reference, 1, 8).getLong();
  }

  /** Which session ids are this member's own (read on every apply). */
  void ownedBy(LongPredicate ours) {
    this.ours = ours;
  }

  /** Called by the replica (Atomix's state thread) after applying the command at {@code index}. */
  void applied(long sessionId, long index, byte[] outcome) {
    if (!ours.test(sessionId)) {
      return;
    }
    byIndex.computeIfAbsent(index, i -> new CompletableFuture<>()).complete(outcome);
    trim();
  }

  /**
   * The outcome of this member's command at {@code index}: at once when this replica has applied it,
   * else when it does.
   */
  CompletableFuture<byte[]> outcome(long index) {
    CompletableFuture<byte[]> future = byIndex.computeIfAbsent(index, i -> new CompletableFuture<>());
    future.whenComplete((r, e) -> byIndex.remove(index, future));
    trim();
    return future;
  }

  int kept() {
    return byIndex.size();
  }

  private void trim() {
    while (byIndex.size() > MAX_KEPT) {
      Map.Entry<Long, CompletableFuture<byte[]>> oldest = byIndex.pollFirstEntry();
      if (oldest == null) {
        return;
      }
      oldest.getValue().completeExceptionally(new TimeoutException("the outcome of the Raft command at index "
          + oldest.getKey() + " was not applied on this member while newer ones were (outcome unknown)"));
    }
  }
}
