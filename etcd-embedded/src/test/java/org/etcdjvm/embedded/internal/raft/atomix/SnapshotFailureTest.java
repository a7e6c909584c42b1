package org.etcdjvm.embedded.internal.raft.atomix;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.Stream;
import org.etcdjvm.embedded.Tmpfs;
import org.etcdjvm.embedded.internal.raft.RaftConfig;
import org.etcdjvm.embedded.internal.raft.RaftNode;
import org.etcdjvm.embedded.internal.store.Event;
import org.etcdjvm.embedded.internal.store.SetOp;
import org.etcdjvm.embedded.internal.store.StoreLimits;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A snapshot whose file cannot be written does not stop snapshots for good. The node's data
 * directory is on a tmpfs the test mounts (needs root, as CI runs) with few inodes: once the test
 * has used the rest up, the log goes on in its existing (pre-allocated) segments, but no snapshot
 * file can be created. The compaction fails, with nothing left behind; once files can be created
 * again and the log has grown, the next compaction succeeds and drops the old segments. Atomix
 * 3.1.12 on its own kept the failed compaction pending forever, and skipped every later snapshot
 * until a restart.
 */
class SnapshotFailureTest {
  private static final int SEGMENT = 1024 * 1024;

  @TempDir Path dir;
  private Path mount;
  private final List<Path> fillers = new ArrayList<>();

  @BeforeEach
  void mountAFileSystemWithFewInodes() throws Exception {
    mount = Tmpfs.mount(dir.resolve("few-inodes"), "size=128m,nr_inodes=200");
  }

  @AfterEach
  void unmount() throws Exception {
    Tmpfs.unmount(mount);
  }

  @Test
  void aSnapshotThatCannotBeWrittenIsRetriedOnceFilesCanBeCreatedAgain() throws Exception {
    Path data = mount.resolve("n1");
    RaftConfig config = new RaftConfig("n1", data, freeAddress(), null, List.of(), Duration.ofMillis(200),
        Duration.ofMillis(50), Duration.ofSeconds(5), Duration.ofSeconds(1), Duration.ofSeconds(5), Duration.ofMillis(50),
        256, SEGMENT, 9, -1, 1L << 40, StoreLimits.defaults());
    try (RaftNode node = new RaftNode(config, (state, names, diskLow) -> new AtomixRaftGroup(config, state, names, diskLow))) {
      node.start("http://127.0.0.1:4001").get(30, TimeUnit.SECONDS);
      Path raft = data.resolve("raft");
      writeAboutTwoSegments(node, "a");
      // the segment after the newest is allocated ahead (every second), so the log can go on
      // into it without creating a file
      await(() -> SegmentSpace.isSpare(newestSegment(raft)), "a spare segment allocated ahead");
      List<Path> before = snapshotFiles(raft);

      useUpTheInodes();
      node.submit(new SetOp("/after-the-inodes", "v", null, null, false)).get(10, TimeUnit.SECONDS);
      CompletableFuture<Void> failing = node.compact();
      try {
        failing.get(60, TimeUnit.SECONDS);
        // Atomix's own schedule may have snapshotted just before the inodes ran out; then the log
        // needs to grow past that snapshot before another is taken
        writeAboutTwoSegments(node, "b");
        failing = node.compact();
        failing.get(60, TimeUnit.SECONDS);
        throw new AssertionError("a snapshot was written although no file could be created");
      } catch (ExecutionException expected) {
        // the compaction failed (the snapshot file could not be created), and says so
      } catch (TimeoutException stuck) {
        throw new AssertionError("the failed compaction is still pending after 60 s: no snapshot would be taken"
            + " again until a restart", stuck);
      }
      assertThat(snapshotFiles(raft)).as("nothing of the failed snapshot is left").isEqualTo(before);

      for (Path filler : fillers) {
        Files.delete(filler);
      }
      writeAboutTwoSegments(node, "c");
      node.compact().get(60, TimeUnit.SECONDS);
      assertThat(snapshotFiles(raft)).hasSize(1);
      assertThat(raft.resolve("etcd-1.log")).as("the first segment, dropped by the compaction").doesNotExist();
      assertThat(node.store().get("/w/0").node().value()).startsWith("c");
    }
  }

  private static void writeAboutTwoSegments(RaftNode node, String prefix) throws Exception {
    String value = prefix + "x".repeat(50_000);
    List<CompletableFuture<Event>> writes = new ArrayList<>();
    for (int i = 0; i < 45; i++) { // 2.2 MB: the log moves two segments on
      writes.add(node.submit(new SetOp("/w/" + (i % 5), value, null, null, false)));
    }
    CompletableFuture.allOf(writes.toArray(CompletableFuture[]::new)).get(30, TimeUnit.SECONDS);
  }

  /** Creates empty files until the file system has no inode left. */
  private void useUpTheInodes() {
    for (int i = 0; i < 1000; i++) {
      Path filler = mount.resolve("filler-" + i);
      try {
        Files.createFile(filler);
        fillers.add(filler);
      } catch (IOException full) {
        assertThat(fillers).as("inodes used up by the test").isNotEmpty();
        return;
      }
    }
    throw new AssertionError("still creating files after 1000: the tmpfs has more inodes than asked for");
  }

  private static Path newestSegment(Path raft) throws IOException {
    try (Stream<Path> files = Files.list(raft)) {
      return files.filter(p -> p.getFileName().toString().matches("etcd-\\d+\\.log"))
          .max(java.util.Comparator.comparingLong(p -> Long.parseLong(p.getFileName().toString().replaceAll("\\D", ""))))
          .orElseThrow();
    }
  }

  private static List<Path> snapshotFiles(Path raft) throws IOException {
    try (Stream<Path> files = Files.list(raft)) {
      return files.filter(p -> p.getFileName().toString().endsWith(".snapshot")).toList();
    }
  }

  private static void await(java.util.concurrent.Callable<Boolean> condition, String what) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (!condition.call()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("not within 30 s: " + what);
      }
      Thread.sleep(20);
    }
  }

  private static String freeAddress() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return "127.0.0.1:" + s.getLocalPort();
    }
  }
}
