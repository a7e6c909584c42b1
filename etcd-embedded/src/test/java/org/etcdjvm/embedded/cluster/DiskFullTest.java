package org.etcdjvm.embedded.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.List;
import java.util.function.Predicate;
import java.util.function.Supplier;
import org.etcdjvm.embedded.Tmpfs;
import org.etcdjvm.embedded.internal.LocalCluster;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A node (a real {@code bin/etcd-node} process) whose data directory is on a small file system the
 * test mounts (tmpfs, 96 MB; needs root, as CI runs): filling the disk makes writes fail with
 * "disk full" while reads go on, filling it to the last byte does not kill the JVM (Atomix maps
 * its log; a page without a block behind it would be a SIGBUS), and writes resume once space is
 * freed.
 */
class DiskFullTest {
  /** Generous: a busy machine (other builds on the same 2 cores) slows every answer. */
  private static final Duration SHORT = Duration.ofSeconds(10);

  @TempDir Path dir;
  private Path mount;
  private NodeProcess node;

  @BeforeEach
  void mountASmallFileSystem() throws Exception {
    mount = Tmpfs.mount(dir.resolve("small"), "size=96m");
  }

  @AfterEach
  void unmount() throws Exception {
    if (node != null) {
      node.kill();
    }
    Tmpfs.unmount(mount);
  }

  @Test
  void aFullDiskRefusesWritesKeepsReadsAndResumesWhenSpaceReturns() throws Exception {
    node = new NodeProcess("n1", "127.0.0.1:" + LocalCluster.freePort(), "127.0.0.1:" + LocalCluster.freePort(),
        List.of(), mount.resolve("n1"));
    node.start();
    node.awaitReady(Duration.ofSeconds(60));
    String key = node.clientUrl() + "/v1/keys/disk";
    assertThat(Curl.put(key, SHORT, "value", "before").status()).isEqualTo(200);

    // Below the node's floor (three 16 MB segments plus an entry), but not yet full.
    Path filler = mount.resolve("filler");
    fill(filler, usable() - 20L * 1024 * 1024);
    // The node reads the free space every 100 ms: a write or two may still get in first.
    String[] lastAcknowledged = {"before"};
    int[] attempt = {0};
    Curl.Reply refused = await(() -> {
      String value = "during-" + attempt[0]++;
      Curl.Reply r = Curl.put(key, SHORT, "value", value);
      if (r.ok()) {
        lastAcknowledged[0] = value;
      }
      return r;
    }, r -> r.status() == 507, "a refused write");
    assertThat(refused.body()).contains("\"errorCode\":300").contains("disk full");
    assertThat(Curl.get(key, SHORT).body()).as("reads go on").contains("\"value\":\"" + lastAcknowledged[0] + "\"");

    // To the last byte: the node must survive its own housekeeping writes (sessions, ticks).
    Path rest = mount.resolve("rest");
    fill(rest, Long.MAX_VALUE);
    for (int i = 0; i < 10; i++) {
      assertThat(Curl.put(key, SHORT, "value", "full").status()).isEqualTo(507);
      Thread.sleep(200); // let keep-alives and heartbeats happen; no condition to wait for
    }
    assertThat(node.isAlive()).as("the JVM survived a full disk; log:\n%s", node.tail(30)).isTrue();
    assertThat(Curl.get(key, SHORT).body()).contains("\"value\":\"" + lastAcknowledged[0] + "\"");

    Files.delete(rest);
    Files.delete(filler);
    Curl.Reply resumed = await(() -> Curl.put(key, SHORT, "value", "after"), Curl.Reply::ok, "writes to resume");
    assertThat(resumed.status()).isEqualTo(200);
    assertThat(Curl.get(key, SHORT).body()).contains("\"value\":\"after\"");
    assertThat(node.isAlive()).isTrue();
  }

  /**
   * With no floor, writes are taken while the disk is full to the last byte: they go
   * into log space allocated before the disk filled (no SIGBUS), and once that runs out they fail
   * with an error; the JVM lives on.
   */
  @Test
  void writesIntoAFullDiskFailCleanlyInsteadOfKillingTheJvm() throws Exception {
    node = new NodeProcess("n1", "127.0.0.1:" + LocalCluster.freePort(), "127.0.0.1:" + LocalCluster.freePort(),
        List.of(), mount.resolve("n1")).withArgs("--min-free-disk-mb", "0");
    node.start();
    node.awaitReady(Duration.ofSeconds(60));
    fill(mount.resolve("filler"), Long.MAX_VALUE);
    String value = "x".repeat(4000);
    int ok = 0;
    for (int i = 0; i < 600 && node.isAlive(); i++) {
      Curl.Reply r = Curl.put(node.clientUrl() + "/v1/keys/fill/" + i, SHORT, "value", value);
      assertThat(r.status()).as("write %d: %s; log:\n%s", i, r, node.tail(20)).isIn(200, 500, 507);
      ok += r.ok() ? 1 : 0;
    }
    assertThat(node.isAlive()).as("the JVM survived writes into a full disk; log:\n%s", node.tail(30)).isTrue();
    assertThat(ok).as("writes taken into space allocated ahead").isPositive();
  }

  private long usable() throws IOException {
    return Files.getFileStore(mount).getUsableSpace();
  }

  /** Writes real blocks to {@code file} until {@code bytes} are written or the disk is full. */
  private static void fill(Path file, long bytes) throws IOException {
    ByteBuffer block = ByteBuffer.allocate(1 << 20);
    try (FileChannel channel = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE)) {
      long written = 0;
      while (written < bytes) {
        block.clear().limit((int) Math.min(block.capacity(), bytes - written));
        try {
          written += channel.write(block);
        } catch (IOException full) {
          break;
        }
      }
    }
  }

  private static <T> T await(Supplier<T> value, Predicate<T> done, String what) throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    T last = null;
    while (System.nanoTime() < deadline) {
      last = value.get();
      if (done.test(last)) {
        return last;
      }
      Thread.sleep(50);
    }
    throw new AssertionError("no " + what + " within 30 s; last: " + last);
  }
}
