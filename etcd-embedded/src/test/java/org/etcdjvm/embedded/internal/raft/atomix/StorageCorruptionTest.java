package org.etcdjvm.embedded.internal.raft.atomix;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.etcdjvm.embedded.internal.LocalCluster;
import org.etcdjvm.embedded.internal.raft.RaftConfig;
import org.etcdjvm.embedded.internal.raft.RaftNode;
import org.etcdjvm.embedded.internal.store.Event;
import org.etcdjvm.embedded.internal.store.SetOp;
import org.etcdjvm.embedded.internal.store.StoreException;
import org.etcdjvm.embedded.internal.store.StoreLimits;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Damages the log and snapshot files of a real single-member node at seeded positions and starts
 * it again: every start either has every acknowledged write (with its last value) or is refused
 * with a message naming the damaged file. Never anything in between.
 *
 * <p>The data directory is written once (writes over several small log segments, a snapshot in
 * the middle, a clean close); each case damages a copy. Seed: system property
 * {@code etcdjvm.corruption.seed} (default: a fixed one, printed); cases:
 * {@code etcdjvm.corruption.cases} (default 24). A failing case prints its seed and damage.
 */
class StorageCorruptionTest {
  private static final int SEGMENT = 256 * 1024;
  private static final StoreLimits LIMITS = new StoreLimits(1024, 16 * 1024, 1000, 100);

  @TempDir static Path root;
  static Path pristine;
  /** One peer address for every start: Atomix's storage lock holds the member id (the address). */
  static String address;
  static final Map<String, String> acknowledged = new LinkedHashMap<>();

  private static RaftNode node(Path dataDir) throws IOException {
    RaftConfig config = new RaftConfig("n1", dataDir, address, null, List.of(),
        Duration.ofMillis(200), Duration.ofMillis(50), Duration.ofSeconds(5), Duration.ofSeconds(1),
        Duration.ofSeconds(5), Duration.ofMillis(50), 256, SEGMENT, 9, -1, 100L * SEGMENT, LIMITS);
    return new RaftNode(config, (state, names, diskLow) -> new AtomixRaftGroup(config, state, names, diskLow));
  }

  @BeforeAll
  static void writeTheDataDirectory() throws Exception {
    address = "127.0.0.1:" + LocalCluster.freePort();
    pristine = root.resolve("pristine");
    try (RaftNode node = node(pristine)) {
      node.start("http://127.0.0.1:4001").get(30, TimeUnit.SECONDS);
      Random random = new Random(7);
      for (int round = 0; round < 6; round++) {
        List<CompletableFuture<Event>> writes = new ArrayList<>();
        List<String[]> sent = new ArrayList<>();
        for (int i = 0; i < 60; i++) {
          String key = "/k/" + random.nextInt(200);
          String value = round + "-" + i + "-" + "v".repeat(random.nextInt(4000));
          writes.add(node.submit(new SetOp(key, value, null, null, false)));
          sent.add(new String[] {key, value});
        }
        for (int i = 0; i < writes.size(); i++) {
          writes.get(i).get(20, TimeUnit.SECONDS);
          acknowledged.put(sent.get(i)[0], sent.get(i)[1]);
        }
        if (round == 2) {
          node.compact().get(90, TimeUnit.SECONDS); // a snapshot, and the log before it dropped
        }
      }
    }
    try (Stream<Path> files = Files.list(pristine.resolve("raft"))) {
      List<String> names = files.map(p -> p.getFileName().toString()).sorted().toList();
      assertThat(names).anyMatch(n -> n.endsWith(".snapshot"));
      assertThat(names.stream().filter(n -> n.endsWith(".log"))).hasSizeGreaterThan(1);
    }
  }

  @Test
  void anUndamagedCopyStartsWithEveryAcknowledgedWrite() throws Exception {
    Path copy = copyOf(pristine, root.resolve("undamaged"));
    assertStartsComplete(copy, "no damage");
  }

  @Test
  void anIncompleteEntryAfterTheCommittedEndIsAnInterruptedWriteAndIsDropped() throws Exception {
    Path copy = copyOf(pristine, root.resolve("torn"));
    List<Path> logs = sorted(copy.resolve("raft"), ".log");
    Path newest = logs.get(logs.size() - 1);
    int end = usedBytes(newest);
    // what a crash in the middle of appending leaves: a length and checksum, part of the body
    try (RandomAccessFile f = new RandomAccessFile(newest.toFile(), "rw")) {
      f.seek(end);
      f.writeInt(500);
      f.writeInt(0x12345678);
      f.write(new byte[] {1, 2, 3, 4, 5, 6, 7, 8, 9});
    }
    assertStartsComplete(copy, "an interrupted append after the last entry");
  }

  @Test
  void aCommittedEntryCutShortIsDamageNotAnInterruptedWrite() throws Exception {
    Path copy = copyOf(pristine, root.resolve("cut-committed"));
    long committed = LogVerifier.verify(copy.resolve("raft"), "etcd", "-").committed();
    List<Path> logs = sorted(copy.resolve("raft"), ".log");
    Path newest = logs.get(logs.size() - 1);
    byte[] bytes = Files.readAllBytes(newest);
    java.nio.ByteBuffer b = java.nio.ByteBuffer.wrap(bytes);
    long index = b.getLong(4 + 8); // the descriptor's first index
    int position = 64;
    while (index < committed) {
      position += 8 + b.getInt(position);
      index++;
    }
    int length = b.getInt(position);
    assertThat(length).as("entry %s, the committed mark, is in the newest segment", committed).isPositive();
    // The mark's entry, cut in the middle, made the last one: what an interrupted write looks like.
    try (RandomAccessFile f = new RandomAccessFile(newest.toFile(), "rw")) {
      f.seek(position + 8 + length / 2);
      f.write(new byte[bytes.length - (position + 8 + length / 2)]);
    }
    try (RaftNode node = node(copy)) {
      assertThat(node.start("http://127.0.0.1:4001")).failsWithin(Duration.ofSeconds(30))
          .withThrowableThat().havingCause().withMessageContaining(newest.toString())
          .withMessageContaining("entry " + committed).withMessageContaining("were committed here");
    }
  }

  @Test
  void aDataDirectoryOfAnotherMemberIsRefusedByName() throws Exception {
    Path copy = copyOf(pristine, root.resolve("other"));
    String mine = address;
    address = "127.0.0.1:" + LocalCluster.freePort();
    try (RaftNode node = node(copy)) {
      assertThat(node.start("http://127.0.0.1:4001")).failsWithin(Duration.ofSeconds(30))
          .withThrowableThat().havingCause().withMessageContaining("belongs to the member at " + mine);
    } finally {
      address = mine;
    }
  }

  @Test
  void everyDamageEitherStartsCompleteOrIsRefusedNamingTheFile() throws Exception {
    long seed = Long.getLong("etcdjvm.corruption.seed", 20261130L);
    int cases = Integer.getInteger("etcdjvm.corruption.cases", 24);
    System.out.println("CORRUPTION seed=" + seed + " cases=" + cases);
    Random random = new Random(seed);
    int refused = 0;
    for (int c = 0; c < cases; c++) {
      String outcome = "started with every acknowledged write";
      Path copy = copyOf(pristine, root.resolve("case" + c));
      String damage = damage(copy.resolve("raft"), random);
      String what = "case " + c + " (seed " + seed + "): " + damage;
      RaftNode node = node(copy);
      try {
        node.start("http://127.0.0.1:4001").get(30, TimeUnit.SECONDS);
        assertComplete(node, what);
      } catch (ExecutionException e) {
        refused++;
        outcome = "refused: " + e.getCause().getMessage();
        assertThat(e.getCause().getMessage()).as(what).contains(copy.resolve("raft").toString())
            .containsAnyOf("delete the data directory", "restore the data directory");
      } finally {
        node.close();
      }
      System.out.println("CORRUPTION_CASE " + what + " -> " + outcome);
    }
    assertThat(refused).as("some damage must be detected").isGreaterThan(0);
  }

  /** One damage at a seeded place; returns what it did. */
  private static String damage(Path raft, Random random) throws IOException {
    List<Path> logs = sorted(raft, ".log");
    List<Path> snapshots = sorted(raft, ".snapshot");
    int kind = random.nextInt(10);
    if (kind <= 4) { // a flipped byte in the used part of a log segment (header included)
      Path file = logs.get(random.nextInt(logs.size()));
      int used = usedBytes(file);
      int offset = random.nextInt(used);
      flip(file, offset, random);
      return "flipped byte at " + offset + " of " + file.getFileName() + " (" + used + " bytes used)";
    } else if (kind == 5 && !snapshots.isEmpty()) {
      Path file = snapshots.get(random.nextInt(snapshots.size()));
      int offset = random.nextInt((int) Files.size(file));
      flip(file, offset, random);
      return "flipped byte at " + offset + " of " + file.getFileName();
    } else if (kind == 6) {
      Path file = logs.get(random.nextInt(logs.size()));
      int keep = random.nextInt(usedBytes(file));
      try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
        f.setLength(keep);
      }
      return "cut " + file.getFileName() + " to " + keep + " bytes";
    } else if (kind == 7 && !snapshots.isEmpty()) {
      Path file = snapshots.get(random.nextInt(snapshots.size()));
      long keep = random.nextLong(Files.size(file));
      try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
        f.setLength(keep);
      }
      return "cut " + file.getFileName() + " to " + keep + " bytes";
    } else if (kind == 8) {
      Path file = logs.get(random.nextInt(logs.size()));
      Files.delete(file);
      return "deleted " + file.getFileName();
    } else {
      Path file = snapshots.isEmpty() ? logs.get(0) : snapshots.get(0);
      try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
        byte[] garbage = new byte[64];
        random.nextBytes(garbage);
        f.write(garbage);
      }
      return "garbage header in " + file.getFileName();
    }
  }

  /** Bytes of a segment up to the last non-zero byte (the rest of the file is unused). */
  private static int usedBytes(Path segment) throws IOException {
    byte[] bytes = Files.readAllBytes(segment);
    int end = bytes.length;
    while (end > 64 && bytes[end - 1] == 0) {
      end--;
    }
    return end;
  }

  private static void flip(Path file, int offset, Random random) throws IOException {
    try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
      f.seek(offset);
      int b = f.read();
      f.seek(offset);
      f.write(b ^ (1 << random.nextInt(8)));
    }
  }

  private static List<Path> sorted(Path dir, String suffix) throws IOException {
    try (Stream<Path> files = Files.list(dir)) {
      return files.filter(p -> p.getFileName().toString().endsWith(suffix)).sorted().toList();
    }
  }

  private static void assertStartsComplete(Path dataDir, String what) throws Exception {
    try (RaftNode node = node(dataDir)) {
      node.start("http://127.0.0.1:4001").get(30, TimeUnit.SECONDS);
      assertComplete(node, what);
    }
  }

  private static void assertComplete(RaftNode node, String what) throws StoreException {
    for (Map.Entry<String, String> e : acknowledged.entrySet()) {
      assertThat(node.store().get(e.getKey()).node().value()).as(what + ": " + e.getKey()).isEqualTo(e.getValue());
    }
  }

  private static Path copyOf(Path from, Path to) throws IOException {
    try (Stream<Path> files = Files.walk(from)) {
      for (Path p : files.sorted(Comparator.naturalOrder()).toList()) {
        Path target = to.resolve(from.relativize(p).toString());
        if (Files.isDirectory(p)) {
          Files.createDirectories(target);
        } else {
          Files.copy(p, target);
        }
      }
    }
    return to;
  }
}
