package org.etcdjvm.embedded.internal.raft.atomix;

import static org.assertj.core.api.Assertions.assertThat;

import io.atomix.protocols.raft.storage.RaftStorage;
import io.atomix.storage.StorageLevel;
import io.atomix.storage.statistics.StorageStatistics;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.net.HttpURLConnection;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import javax.management.MBeanServerFactory;
import org.etcdjvm.embedded.EtcdNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link AtomixInternals#buildStorage}: the Raft storage Atomix's builder would make, with the same
 * settings, but without the JVM's platform MBean server (its creation was a quarter of a node's
 * start-up CPU); the statistics Atomix reads from it (disk space, free and total memory) still
 * answer. A child JVM checks that a whole node's start, a write and a compaction check leave no
 * MBean server behind.
 */
class StorageWithoutMBeanServerTest {
  @TempDir
  Path dir;

  @SuppressWarnings("deprecation") // maxEntriesPerSegment: a setting Atomix still copies, set off its default here
  private RaftStorage.Builder builder(Path directory) {
    return RaftStorage.builder()
        .withPrefix("etcd")
        .withDirectory(directory.toFile())
        .withStorageLevel(StorageLevel.MAPPED)
        .withFlushOnCommit(true)
        .withDynamicCompaction(false)
        .withMaxSegmentSize(3 * 1024 * 1024)
        .withMaxEntrySize(123_456)
        .withMaxEntriesPerSegment(4321)
        .withFreeDiskBuffer(0.25)
        .withFreeMemoryBuffer(0.15)
        .withRetainStaleSnapshots();
  }

  @Test
  @SuppressWarnings("deprecation")
  void hasEverySettingTheBuilderGivesAndWorkingStatistics() throws Exception {
    assertThat(AtomixInternals.storageWithoutMBeanServer()).as("resolvable on this JDK and Atomix").isTrue();
    Path directory = dir.resolve("not-yet/raft");
    RaftStorage ours = AtomixInternals.buildStorage(builder(directory));
    RaftStorage atomix = builder(dir.resolve("atomix")).build();

    assertThat(Files.isDirectory(directory)).as("created, as the constructor does").isTrue();
    int compared = 0;
    for (Field f : RaftStorage.class.getDeclaredFields()) {
      if (Modifier.isStatic(f.getModifiers()) || f.getName().equals("statistics")) {
        continue;
      }
      f.setAccessible(true);
      if (f.getName().equals("directory")) {
        assertThat(f.get(ours)).isEqualTo(directory.toFile());
      } else {
        assertThat(f.get(ours)).as(f.getName()).isEqualTo(f.get(atomix));
      }
      compared++;
    }
    assertThat(compared).isEqualTo(12);
    assertThat(ours.maxLogEntriesPerSegment()).isEqualTo(4321);
    assertThat(ours.freeMemoryBuffer()).isEqualTo(0.15);
    assertThat(ours.isRetainStaleSnapshots()).isTrue();

    StorageStatistics stats = ours.statistics();
    assertThat(stats).isInstanceOf(OsStorageStatistics.class);
    Field server = StorageStatistics.class.getDeclaredField("mBeanServer");
    server.setAccessible(true);
    assertThat(server.get(stats)).as("the constructor that creates it never ran").isNull();
    java.io.File d = directory.toFile();
    assertThat(stats.getTotalSpace()).isEqualTo(d.getTotalSpace()).isPositive();
    assertThat(stats.getUsableSpace()).isPositive().isLessThanOrEqualTo(stats.getTotalSpace());
    assertThat(stats.getFreeSpace()).isPositive().isLessThanOrEqualTo(stats.getTotalSpace());
    assertThat(stats.getTotalMemory()).isPositive();
    assertThat(stats.getFreeMemory()).isPositive().isLessThanOrEqualTo(stats.getTotalMemory());
    // the same figures Atomix's own statistics give (through the platform MBean server)
    assertThat(stats.getTotalMemory()).isEqualTo(atomix.statistics().getTotalMemory());
  }

  /** The child: a node started, written to and stopped; prints how many MBean servers exist. */
  public static final class Child {
    public static void main(String[] args) throws Exception {
      try (EtcdNode node = EtcdNode.builder().dataDir(Path.of(args[0]))
          .clientAddress("127.0.0.1:0").peerAddress("127.0.0.1:0").build()) {
        node.start().get(30, TimeUnit.SECONDS);
        HttpURLConnection c = (HttpURLConnection) URI.create(node.clientUrl() + "/v1/keys/k").toURL().openConnection();
        c.setRequestMethod("POST");
        c.setDoOutput(true);
        c.getOutputStream().write("value=v".getBytes(StandardCharsets.UTF_8));
        System.out.println("WRITE " + c.getResponseCode());
        // Atomix's compaction check reads memory through the storage's statistics
        RaftStorage storage = AtomixInternals.buildStorage(RaftStorage.builder().withDirectory(Path.of(args[0], "x").toFile()));
        System.out.println("MEMORY " + (storage.statistics().getFreeMemory() > 0));
      }
      System.out.println("MBEAN_SERVERS " + MBeanServerFactory.findMBeanServer(null).size());
    }
  }

  @Test
  void aNodeStartsWritesAndStopsWithoutCreatingAnMBeanServer() throws Exception {
    List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "--add-opens", "java.base/java.util.concurrent.atomic=ALL-UNNAMED",
        "--add-opens", "java.base/java.util=ALL-UNNAMED",
        "-cp", System.getProperty("java.class.path"), Child.class.getName(), dir.resolve("node").toString()));
    ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true);
    pb.environment().remove("JDK_JAVA_OPTIONS");
    pb.environment().remove("JAVA_TOOL_OPTIONS");
    pb.environment().remove("_JAVA_OPTIONS");
    Process p = pb.start();
    String output;
    try {
      if (!p.waitFor(60, TimeUnit.SECONDS)) {
        throw new AssertionError("the child JVM is still running after 60 s");
      }
      output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } finally {
      p.destroyForcibly();
    }
    assertThat(output).contains("WRITE 200", "MEMORY true");
    assertThat(output).as("no platform MBean server, nor any other").contains("MBEAN_SERVERS 0");
    assertThat(p.exitValue()).as(output).isZero();
  }
}
