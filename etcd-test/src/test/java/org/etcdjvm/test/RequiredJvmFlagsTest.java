package org.etcdjvm.test;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * A test JVM started without the two {@code --add-opens} flags: starting a cluster fails before
 * any node starts, with the Surefire and Gradle lines to paste (the user project under
 * integration-tests/src/it uses that very Surefire line).
 */
class RequiredJvmFlagsTest {
  private static final String FLAGS =
      "--add-opens java.base/java.util.concurrent.atomic=ALL-UNNAMED --add-opens java.base/java.util=ALL-UNNAMED";

  /** The child: starts a cluster and prints what happened. */
  public static final class Child {
    public static void main(String[] args) {
      try (EtcdCluster cluster = EtcdCluster.builder().build()) {
        cluster.start();
        System.out.println("STARTED");
      } catch (IllegalStateException e) {
        System.out.println("FAILED " + e.getMessage());
      }
    }
  }

  @Test
  void withoutTheFlagsStartFailsWithTheLinesToPaste() throws Exception {
    ProcessBuilder pb = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-cp", System.getProperty("java.class.path"), Child.class.getName()).redirectErrorStream(true);
    pb.environment().remove("JDK_JAVA_OPTIONS");
    pb.environment().remove("JAVA_TOOL_OPTIONS");
    Process p = pb.start();
    String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
    assertThat(output).startsWith("FAILED etcd-test: this JVM lacks " + FLAGS + ", which Atomix 3.1's serializer")
        .contains("    <argLine>" + FLAGS + "</argLine>\n")
        .contains("    tasks.test { jvmArgs(\"--add-opens\", \"java.base/java.util.concurrent.atomic=ALL-UNNAMED\","
            + " \"--add-opens\", \"java.base/java.util=ALL-UNNAMED\") }\n")
        .contains("    test { jvmArgs '--add-opens', 'java.base/java.util.concurrent.atomic=ALL-UNNAMED',"
            + " '--add-opens', 'java.base/java.util=ALL-UNNAMED' }\n")
        .doesNotContain("STARTED", "Exception", "\tat ");
    assertThat(p.exitValue()).isZero();
  }

  @Test
  void theMessageNamesOnlyWhatIsMissingButTheLinesCarryBoth() {
    String message = RequiredJvmFlags.message(List.of("java.util"), "ALL-UNNAMED");
    assertThat(message).startsWith("etcd-test: this JVM lacks --add-opens java.base/java.util=ALL-UNNAMED, which")
        .contains("<argLine>" + FLAGS + "</argLine>");
  }
}
