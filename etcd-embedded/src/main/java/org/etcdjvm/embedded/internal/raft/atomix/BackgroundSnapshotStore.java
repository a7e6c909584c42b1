package org.etcdjvm.embedded.internal.raft.atomix;

import io.atomix.protocols.raft.storage.RaftStorage;
import io.atomix.protocols.raft.storage.snapshot.Snapshot;
import io.atomix.protocols.raft.storage.snapshot.SnapshotDescriptor;
import io.atomix.protocols.raft.storage.snapshot.SnapshotReader;
import io.atomix.protocols.raft.storage.snapshot.SnapshotStore;
import io.atomix.protocols.raft.storage.snapshot.SnapshotWriter;
import io.atomix.utils.time.WallClockTimestamp;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Atomix's snapshot store, except that a snapshot is written to its file on a thread of its own
 * instead of the thread that called {@link Snapshot#persist()}.
 *
 * <p>Atomix 3.1.12's {@code RaftServiceManager} serialises the services into a snapshot in memory
 * and then, on the same state-machine thread, persists it: a file of the snapshot's size written
 * through {@code RandomAccessFile} (zero-filled first, then the bytes, then fsync). With a million
 * keys that was about 0.65 s of the 1.1 s in which no entry was applied. Here {@code persist()}
 * returns at once and the file is written meanwhile; Atomix's next step, {@code complete()} (10 s
 * later, on the state thread), waits for the write if it is still going on and then completes the
 * file snapshot as Atomix would. Only a completed snapshot lets Atomix compact the log, so the log
 * it covers stays until the file is on disk: a crash before that leaves an unlocked snapshot file,
 * which Atomix deletes at the next start, and the log replays. A failed write fails {@code
 * complete()} as a failed {@code persist()} would have: Atomix keeps the log, and the action given
 * to {@link #onCompletionFailure} runs (the Raft group lets Atomix snapshot again later).
 *
 * <p>A follower installing a snapshot from the leader calls {@code persist().complete()} at once,
 * so it still waits for its write, as before. {@link #close()} waits for writes in progress.
 *
 * <p>Thread-safety: as Atomix's store.
 */
final class BackgroundSnapshotStore extends SnapshotStore {
  private static final Logger log = LoggerFactory.getLogger(BackgroundSnapshotStore.class);
  /** How long {@link #close()} waits for writes in progress. */
  private static final long CLOSE_WAIT_SECONDS = 30;

  private final RaftStorage storage;
  private final String name;
  private final Executor writer;
  private final Set<CompletableFuture<Snapshot>> writing = ConcurrentHashMap.newKeySet();
  private volatile Runnable completionFailed = () -> {};

  /** Writes each snapshot file on a daemon thread of its own, "etcd-snapshot-writer-{@code name}". */
  BackgroundSnapshotStore(RaftStorage storage, String name) {
    this(storage, name, write -> {
      Thread t = new Thread(write, "etcd-snapshot-writer-" + name);
      t.setDaemon(true);
      t.start();
    });
  }

  /** Runs each snapshot file's write on {@code writer} (tests hold them back). */
  BackgroundSnapshotStore(RaftStorage storage, String name, Executor writer) {
    super(storage);
    this.storage = storage;
    this.name = name;
    this.writer = writer;
  }

  @Override
  public Snapshot newTemporarySnapshot(long index, WallClockTimestamp timestamp) {
    return new InMemory(super.newTemporarySnapshot(index, timestamp), this);
  }

  /**
   * Runs {@code action} on the thread whose {@code complete()} of a snapshot failed (its file could
   * not be written, or not completed), after the failure is logged and before it is thrown.
   */
  void onCompletionFailure(Runnable action) {
    completionFailed = action;
  }

  /** Snapshot files being written now (for tests). */
  int writesInProgress() {
    return writing.size();
  }

  @Override
  public void close() {
    for (CompletableFuture<Snapshot> write : writing) {
      try {
        write.get(CLOSE_WAIT_SECONDS, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      } catch (ExecutionException e) {
        // reported by complete(), or not needed any more
      } catch (TimeoutException e) {
        log.warn("{}: a snapshot file is still being written after {} s; closing without it (the log it covers"
            + " is kept)", name, CLOSE_WAIT_SECONDS);
      }
    }
    super.close();
  }

  private CompletableFuture<Snapshot> writeInBackground(Snapshot inMemory) {
    CompletableFuture<Snapshot> written = new CompletableFuture<>();
    writing.add(written);
    written.whenComplete((s, e) -> writing.remove(written));
    writer.execute(() -> {
      try {
        written.complete(inMemory.persist());
      } catch (Throwable e) {
        deletePartialFile(inMemory.index()); // on a full disk, it would keep the disk full
        written.completeExceptionally(e);
      }
    });
    return written;
  }

  /** Atomix's file for a snapshot at {@code index} ({@code SnapshotFile.createSnapshotFileName}). */
  java.nio.file.Path fileOf(long index) {
    return storage.directory().toPath().resolve(storage.prefix() + "-" + index + ".snapshot");
  }

  private void deletePartialFile(long index) {
    try {
      java.nio.file.Files.deleteIfExists(fileOf(index));
    } catch (java.io.IOException | RuntimeException e) {
      log.debug("{}: cannot delete the partial snapshot file {} (deleted at the next start)", name, fileOf(index), e);
    }
  }

  private static SnapshotDescriptor descriptorOf(Snapshot snapshot) {
    return SnapshotDescriptor.builder()
        .withIndex(snapshot.index())
        .withTimestamp(snapshot.timestamp().unixTimestamp())
        .build();
  }

  /** Atomix's in-memory snapshot, whose {@link #persist()} writes the file in the background. */
  private static final class InMemory extends Snapshot {
    private final Snapshot memory;
    private final BackgroundSnapshotStore owner;

    InMemory(Snapshot memory, BackgroundSnapshotStore owner) {
      super(descriptorOf(memory), owner);
      this.memory = memory;
      this.owner = owner;
    }

    @Override
    public SnapshotWriter openWriter() {
      return memory.openWriter();
    }

    @Override
    public SnapshotReader openReader() {
      return memory.openReader();
    }

    @Override
    public Snapshot persist() {
      return new Persisting(memory, owner.writeInBackground(memory), owner);
    }

    @Override
    public Snapshot complete() {
      memory.complete();
      return memory;
    }

    @Override
    public boolean isPersisted() {
      return memory.isPersisted();
    }

    @Override
    public void close() {
      memory.close();
    }

    @Override
    public void delete() {
      memory.delete();
    }
  }

  /** A snapshot whose file is being written; {@link #complete()} waits for it. */
  private static final class Persisting extends Snapshot {
    private final CompletableFuture<Snapshot> file;

    private final BackgroundSnapshotStore owner;

    Persisting(Snapshot memory, CompletableFuture<Snapshot> file, BackgroundSnapshotStore owner) {
      super(descriptorOf(memory), owner);
      this.file = file;
      this.owner = owner;
    }

    private Snapshot file() {
      try {
        return file.join();
      } catch (java.util.concurrent.CompletionException e) {
        Throwable cause = e.getCause() == null ? e : e.getCause();
        log.error("writing the snapshot at index {} failed; the Raft log it covers is kept", index(), cause);
        if (cause instanceof RuntimeException r) {
          throw r;
        }
        if (cause instanceof Error err) {
          throw err;
        }
        throw e;
      }
    }

    @Override
    public Snapshot complete() {
      try {
        return file().complete();
      } catch (RuntimeException | Error e) {
        owner.completionFailed.run();
        throw e;
      }
    }

    @Override
    public SnapshotWriter openWriter() {
      return file().openWriter();
    }

    @Override
    public SnapshotReader openReader() {
      return file().openReader();
    }

    @Override
    public boolean isPersisted() {
      return true;
    }

    @Override
    public void close() {
      file.thenAccept(Snapshot::close);
    }

    @Override
    public void delete() {
      file.thenAccept(Snapshot::delete);
    }
  }
}
