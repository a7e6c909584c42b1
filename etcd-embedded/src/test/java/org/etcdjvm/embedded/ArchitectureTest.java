package org.etcdjvm.embedded;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/** Layering rules read off the sources. */
class ArchitectureTest {
  private static final Path MAIN = Path.of("src/main/java/org/etcdjvm/embedded");

  private static List<Path> sources() throws IOException {
    try (Stream<Path> files = Files.walk(MAIN)) {
      return files.filter(p -> p.toString().endsWith(".java")).toList();
    }
  }

  @Test
  void onlyTheAtomixAdapterSeesAtomix() throws IOException {
    for (Path file : sources()) {
      boolean adapter = MAIN.relativize(file).startsWith(Path.of("internal", "raft", "atomix"));
      if (!adapter) {
        assertThat(Files.readString(file)).as(file.toString()).doesNotContain("import io.atomix");
      }
    }
  }

  @Test
  void theStoreKnowsNeitherRaftNorHttp() throws IOException {
    for (Path file : sources()) {
      if (MAIN.relativize(file).startsWith(Path.of("internal", "store"))) {
        assertThat(Files.readString(file)).as(file.toString())
            .doesNotContain("import io.atomix", "import io.netty", "internal.raft", "internal.http");
      }
    }
  }

  /**
   * Raft never reaches up into HTTP. Only the Atomix adapter may touch Netty, and only Atomix's own
   * messaging pipeline (Atomix is built on it; see PeerTlsFailures).
   */
  @Test
  void raftDoesNotReachUpIntoHttp() throws IOException {
    for (Path file : sources()) {
      Path relative = MAIN.relativize(file);
      if (relative.startsWith(Path.of("internal", "raft"))) {
        assertThat(Files.readString(file)).as(file.toString()).doesNotContain("internal.http");
        if (!relative.startsWith(Path.of("internal", "raft", "atomix"))) {
          assertThat(Files.readString(file)).as(file.toString()).doesNotContain("import io.netty", "io.netty.");
        }
      }
    }
  }
}
