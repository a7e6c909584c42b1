package org.etcdjvm.embedded.internal.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** Flag parsing of bin/etcd-node; starting a node from flags is covered by the process tests (NodeProcess). */
class EtcdNodeCommandTest {

  @Test
  void etcd01FlagsAreParsed() throws Exception {
    EtcdNodeCommand.Flags flags = EtcdNodeCommand.parse(
        "-n", "n2", "-d", "/tmp/n2", "-c", "127.0.0.1:4002", "-s", "127.0.0.1:7002", "-C", "127.0.0.1:7001,127.0.0.1:7003");
    assertThat(flags.name()).isEqualTo("n2");
    assertThat(flags.dataDir()).isEqualTo(Path.of("/tmp/n2"));
    assertThat(flags.clientAddress()).isEqualTo("127.0.0.1:4002");
    assertThat(flags.peerAddress()).isEqualTo("127.0.0.1:7002");
    assertThat(flags.peers()).containsExactly("127.0.0.1:7001", "127.0.0.1:7003");
    assertThat(flags.exitWhenReady()).isFalse();
  }

  @Test
  void longFlagsWithEqualsAndRepeatedPeersWork() throws Exception {
    EtcdNodeCommand.Flags flags = EtcdNodeCommand.parse(
        "--name=a", "--client-addr=127.0.0.1:1", "--peer-addr", "127.0.0.1:2", "--peers=h:1", "-C", "h:2,h:3");
    assertThat(flags.name()).isEqualTo("a");
    assertThat(flags.clientAddress()).isEqualTo("127.0.0.1:1");
    assertThat(flags.peerAddress()).isEqualTo("127.0.0.1:2");
    assertThat(flags.peers()).containsExactly("h:1", "h:2", "h:3");
  }

  @Test
  void defaultsMatchEtcd01() throws Exception {
    EtcdNodeCommand.Flags flags = EtcdNodeCommand.parse();
    assertThat(flags.name()).isEqualTo("default");
    assertThat(flags.dataDir()).isNull();
    assertThat(flags.clientAddress()).isEqualTo("127.0.0.1:4001");
    assertThat(flags.peerAddress()).isEqualTo("127.0.0.1:7001");
    assertThat(flags.peers()).isEmpty();
    assertThat(flags.help()).isFalse();
    assertThat(flags.version()).isFalse();
  }

  @Test
  void theHiddenTrainingFlagIsRecognised() throws Exception {
    assertThat(EtcdNodeCommand.parse("-n", "w", "--exit-when-ready").exitWhenReady()).isTrue();
  }

  @Test
  void badFlagsAreRefusedWithAReason() {
    assertThatThrownBy(() -> EtcdNodeCommand.parse("--bogus"))
        .isInstanceOf(EtcdNodeCommand.BadFlagsException.class).hasMessageContaining("bogus");
    assertThatThrownBy(() -> EtcdNodeCommand.parse("-n"))
        .isInstanceOf(EtcdNodeCommand.BadFlagsException.class).hasMessageContaining("n");
    assertThatThrownBy(() -> EtcdNodeCommand.parse("-n", "a", "stray"))
        .isInstanceOf(EtcdNodeCommand.BadFlagsException.class).hasMessageContaining("stray");
    assertThatThrownBy(() -> EtcdNodeCommand.parse("-n", "a", "-n", "b"))
        .isInstanceOf(EtcdNodeCommand.BadFlagsException.class).hasMessageContaining("more than once");
    assertThatThrownBy(() -> EtcdNodeCommand.parse("-C", "h:1,,h:2"))
        .isInstanceOf(EtcdNodeCommand.BadFlagsException.class).hasMessageContaining("empty peer address");
  }

  @Test
  void badFlagsExitWithStatus2AndTheUsage() throws Exception {
    Output out = new Output();
    Output err = new Output();
    assertThat(EtcdNodeCommand.run(new String[] {"--bogus"}, out.stream, err.stream)).isEqualTo(2);
    assertThat(err.text()).startsWith("etcd-node: ").contains("--bogus").contains("--peer-addr");
    assertThat(out.text()).isEmpty();
  }

  @Test
  void badAddressesExitWithStatus2() throws Exception {
    Output err = new Output();
    assertThat(EtcdNodeCommand.run(new String[] {"-c", "nonsense"}, new Output().stream, err.stream)).isEqualTo(2);
    assertThat(err.text()).startsWith("etcd-node: ").contains("nonsense");
  }

  @Test
  void helpAndVersionPrintAndExit0() throws Exception {
    Output out = new Output();
    assertThat(EtcdNodeCommand.run(new String[] {"--help"}, out.stream, new Output().stream)).isZero();
    assertThat(out.text()).contains("etcd-node").contains("-n", "--name", "-d", "--data-dir", "-c", "--client-addr",
        "-s", "--peer-addr", "-C", "--peers", "127.0.0.1:4001", "127.0.0.1:7001").doesNotContain("exit-when-ready");
    Output version = new Output();
    assertThat(EtcdNodeCommand.run(new String[] {"-V"}, version.stream, new Output().stream)).isZero();
    assertThat(version.text()).isEqualTo("etcd v0.1.2 (etcdjvm)" + System.lineSeparator());
  }

  @Test
  void theClusterTrainingRunFormsAClusterAndStops(@org.junit.jupiter.api.io.TempDir Path dir) throws Exception {
    Output err = new Output();
    assertThat(EtcdNodeCommand.run(new String[] {"-d", dir.toString(), "--train-cluster"}, new Output().stream, err.stream))
        .as(err.text()).isZero();
    try (var files = java.nio.file.Files.list(dir)) {
      assertThat(files.map(p -> p.getFileName().toString())).containsExactlyInAnyOrder("train0", "train1", "train2");
    }
  }

  private static final class Output {
    final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    final PrintStream stream = new PrintStream(bytes, true, StandardCharsets.UTF_8);

    String text() {
      return bytes.toString(StandardCharsets.UTF_8);
    }
  }
}
