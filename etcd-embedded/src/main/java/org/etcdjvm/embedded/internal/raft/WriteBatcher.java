package org.etcdjvm.embedded.internal.raft;

import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Function;
import org.etcdjvm.embedded.internal.store.Event;
import org.etcdjvm.embedded.internal.store.SetOp;
import org.etcdjvm.embedded.internal.store.Outcome;
import org.etcdjvm.embedded.internal.store.WriteCodec;
import org.etcdjvm.embedded.internal.store.WriteOp;

/**
 * Group commit: concurrent writes are packed into one Raft command, with one command in flight at
 * a time. Writes that arrive while a command is on its way wait in the queue and leave together in
 * the next one, so throughput grows with load instead of collapsing (one command in flight is also
 * what Atomix 3.1's sessions need: atomix/atomix#1088).
 *
 * <p>Thread-safe; never blocks the caller.
 */
final class WriteBatcher {
  private record Pending(WriteOp op, CompletableFuture<Event> result) {}

  private final Queue<Pending> queue = new ConcurrentLinkedQueue<>();
  private final AtomicBoolean sending = new AtomicBoolean();
  private final AtomicBoolean tickRequested = new AtomicBoolean();
  private final Function<byte[], CompletableFuture<byte[]>> execute;
  private final LogClock clock;
  private final java.util.function.BooleanSupplier leader;
  private final int maxOps;
  private final long maxBatchChars;
  private final long commitTimeoutMillis;
  private volatile boolean closed;

  /**
   * @param execute       replicates one command, completing with the state machine's result
   * @param clock         the log's time, stamped on each command while {@code leader} says this
   *     member leads ({@link LogClock#UNSTAMPED} otherwise)
   * @param maxBatchChars a batch stops growing at this many UTF-16 chars of keys and values (a
   *     char is at most 3 UTF-8 bytes, so a third of the Raft entry limit always fits); a single
   *     write is always sent, whatever its size
   */
  WriteBatcher(Function<byte[], CompletableFuture<byte[]>> execute, LogClock clock,
      java.util.function.BooleanSupplier leader, int maxOps, long maxBatchChars, long commitTimeoutMillis) {
    this.execute = execute;
    this.clock = clock;
    this.leader = leader;
    this.maxOps = maxOps;
    this.maxBatchChars = maxBatchChars;
    this.commitTimeoutMillis = commitTimeoutMillis;
  }

  /** Queues one write; the future completes with its event or fails (see {@link Replica#submit}). */
  CompletableFuture<Event> submit(WriteOp op) {
    CompletableFuture<Event> result = new CompletableFuture<>();
    if (closed) {
      result.completeExceptionally(new IllegalStateException("node is closed"));
      return result;
    }
    queue.add(new Pending(op, result));
    drain();
    return result.orTimeout(commitTimeoutMillis, TimeUnit.MILLISECONDS);
  }

  /**
   * Asks for an empty command, which only advances the replicated clock so that due TTLs expire
   * on an otherwise idle cluster. Coalesces with any batch that is sent anyway.
   */
  void tick() {
    if (tickRequested.compareAndSet(false, true)) {
      drain();
    }
  }

  void close() {
    closed = true;
    Pending p;
    while ((p = queue.poll()) != null) {
      p.result.completeExceptionally(new IllegalStateException("node is closed"));
    }
  }

  private void drain() {
    while (!queue.isEmpty() || tickRequested.get()) {
      if (!sending.compareAndSet(false, true)) {
        return; // the command in flight calls drain() again when it completes
      }
      List<Pending> batch = takeBatch();
      if (batch.isEmpty() && !tickRequested.getAndSet(false)) {
        sending.set(false);
        continue; // someone else took the work; re-check for work that raced in
      }
      tickRequested.set(false);
      send(batch);
      return;
    }
  }

  private List<Pending> takeBatch() {
    List<Pending> batch = new ArrayList<>(Math.min(maxOps, 64));
    long chars = 0;
    Pending p;
    while (batch.size() < maxOps && (p = queue.peek()) != null) {
      long size = sizeOf(p.op);
      if (!batch.isEmpty() && chars + size > maxBatchChars) {
        break;
      }
      if (queue.poll() == null) {
        break;
      }
      batch.add(p);
      chars += size;
    }
    return batch;
  }

  private static long sizeOf(WriteOp op) {
    long size = op.key().length() + 16;
    if (op instanceof SetOp set) {
      size += set.value() == null ? 0 : set.value().length();
      size += set.prevValue() == null ? 0 : set.prevValue().length();
    }
    return size;
  }

  private void send(List<Pending> batch) {
    List<WriteOp> ops = new ArrayList<>(batch.size());
    for (Pending p : batch) {
      ops.add(p.op);
    }
    CompletableFuture<byte[]> sent;
    try {
      sent = execute.apply(WriteCodec.encodeCommand(leader.getAsBoolean() ? clock.stamp() : LogClock.UNSTAMPED, ops));
    } catch (RuntimeException e) {
      sent = CompletableFuture.failedFuture(e);
    }
    sent.whenComplete((bytes, error) -> {
      sending.set(false);
      if (error != null) {
        for (Pending p : batch) {
          p.result.completeExceptionally(error);
        }
      } else {
        complete(batch, bytes);
      }
      drain();
    });
  }

  private static void complete(List<Pending> batch, byte[] bytes) {
    List<Outcome> outcomes = WriteCodec.decodeOutcomes(bytes);
    for (int i = 0; i < batch.size(); i++) {
      CompletableFuture<Event> result = batch.get(i).result;
      if (outcomes.get(i) instanceof Outcome.Applied applied) {
        result.complete(applied.event());
      } else {
        result.completeExceptionally(((Outcome.Failed) outcomes.get(i)).error());
      }
    }
  }
}
