package org.etcdjvm.embedded.internal.raft.atomix;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.atomix.protocols.raft.storage.RaftStorage;
import io.atomix.protocols.raft.storage.snapshot.Snapshot;
import io.atomix.protocols.raft.storage.snapshot.SnapshotReader;
import io.atomix.protocols.raft.storage.snapshot.SnapshotWriter;
import io.atomix.storage.StorageLevel;
import io.atomix.utils.time.WallClockTimestamp;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.Queue;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The snapshot store that writes snapshot files off the state-machine thread: {@code persist()}
 * returns before the file is written, {@code complete()} waits for it, a snapshot whose file was
 * written but never completed (a crash in between) is discarded at the next start, and a failed
 * write fails {@code complete()}. Plain files, no network; the writes are held back by the test.
 */
class BackgroundSnapshotStoreTest {
  @TempDir
  Path dir;

  private final Queue<Runnable> held = new ArrayDeque<>();

  private RaftStorage storage() {
    return RaftStorage.builder()
        .withPrefix("etcd")
        .withDirectory(dir.toFile())
        .withStorageLevel(StorageLevel.MAPPED)
        .build();
  }

  private BackgroundSnapshotStore store() {
    return new BackgroundSnapshotStore(storage(), "test", held::add);
  }

  private static byte[] bytes(int n, long seed) {
    byte[] b = new byte[n];
    new Random(seed).nextBytes(b);
    return b;
  }

  private static Snapshot written(BackgroundSnapshotStore store, long index, byte[] content) {
    Snapshot snapshot = store.newTemporarySnapshot(index, new WallClockTimestamp());
    try (SnapshotWriter writer = snapshot.openWriter()) {
      writer.write(content);
    }
    return snapshot;
  }

  private static byte[] read(Snapshot snapshot, int n) {
    try (SnapshotReader reader = snapshot.openReader()) {
      return reader.readBytes(n);
    }
  }

  private long snapshotFiles() throws Exception {
    try (var files = Files.list(dir)) {
      return files.filter(p -> p.getFileName().toString().endsWith(".snapshot")).count();
    }
  }

  @Test
  void persistReturnsBeforeTheFileIsWrittenAndCompleteWaitsForIt() throws Exception {
    byte[] content = bytes(3 * 1024 * 1024, 1);
    BackgroundSnapshotStore store = store();
    Snapshot persisting = written(store, 10, content).persist();

    assertThat(held).as("the file's write, handed to the writer").hasSize(1);
    assertThat(snapshotFiles()).as("no file before the write runs").isZero();
    assertThat(store.writesInProgress()).isEqualTo(1);
    assertThat(store.getCurrentSnapshot()).isNull();

    held.remove().run();
    assertThat(store.getCurrentSnapshot()).as("written, not yet completed").isNull();
    persisting.complete();
    assertThat(store.writesInProgress()).isZero();
    assertThat(store.getCurrentSnapshot().index()).isEqualTo(10);
    assertThat(read(store.getCurrentSnapshot(), content.length)).isEqualTo(content);
    store.close();

    BackgroundSnapshotStore reopened = store();
    assertThat(reopened.getCurrentSnapshot().index()).as("found again at the next start").isEqualTo(10);
    assertThat(read(reopened.getCurrentSnapshot(), content.length)).isEqualTo(content);
  }

  @Test
  void aSnapshotWrittenButNeverCompletedIsDiscardedAtTheNextStart() throws Exception {
    byte[] first = bytes(100_000, 2);
    BackgroundSnapshotStore store = store();
    Snapshot one = written(store, 5, first).persist();
    held.remove().run();
    one.complete();

    written(store, 9, bytes(200_000, 3)).persist();
    held.remove().run(); // the file is written; the process dies before Atomix completes it
    assertThat(snapshotFiles()).isEqualTo(2);

    BackgroundSnapshotStore restarted = store();
    assertThat(restarted.getCurrentSnapshot().index()).isEqualTo(5);
    assertThat(read(restarted.getCurrentSnapshot(), first.length)).isEqualTo(first);
    assertThat(snapshotFiles()).as("the partial snapshot deleted").isEqualTo(1);
  }

  @Test
  void aFailedWriteFailsCompleteAndKeepsThePreviousSnapshot() throws Exception {
    BackgroundSnapshotStore store = store();
    Snapshot one = written(store, 5, bytes(1000, 4)).persist();
    held.remove().run();
    one.complete();

    Snapshot two = written(store, 9, bytes(1000, 5)).persist();
    // the file's place is taken by a directory: its RandomAccessFile cannot be opened
    Files.createDirectory(dir.resolve("etcd-9.snapshot"));
    held.remove().run();

    java.util.concurrent.atomic.AtomicInteger told = new java.util.concurrent.atomic.AtomicInteger();
    store.onCompletionFailure(told::incrementAndGet);
    assertThatThrownBy(two::complete).isInstanceOf(RuntimeException.class);
    assertThat(told).as("the failure is told, so that Atomix's compaction can be released").hasValue(1);
    assertThat(store.getCurrentSnapshot().index()).isEqualTo(5);
    assertThat(store.writesInProgress()).isZero();
    assertThat(dir.resolve("etcd-9.snapshot")).as("what the failed write left in the file's place").doesNotExist();
    assertThat(store.fileOf(9)).isEqualTo(dir.resolve("etcd-9.snapshot"));
  }

  @Test
  void closeWaitsForAWriteInProgress() throws Exception {
    BackgroundSnapshotStore store = store();
    written(store, 7, bytes(1000, 6)).persist();
    Runnable write = held.remove();
    Thread later = new Thread(() -> {
      try {
        Thread.sleep(200);
      } catch (InterruptedException e) {
        return;
      }
      write.run();
    });
    later.start();
    store.close();
    // the write's result is set only once the file is written (and Atomix's writer has closed it)
    assertThat(snapshotFiles()).as("the file, written before close returned").isEqualTo(1);
    later.join();
  }
}
