package org.etcdjvm.embedded.internal.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** Flag parsing of bin/etcd-node, and one node started from flags in process; the process tests (NodeProcess) start the rest. */
class EtcdNodeCommandTest {
  @org.junit.jupiter.api.io.TempDir Path tmp;

  /**
   * {@code --max-history-mb} reaches the node: with 1 MB, three writes of 400 KB values push the
   * first write's event out of the history, and a watch from its index gets error 401.
   */
  @Test
  void maxHistoryMbBoundsTheEventsKeptForWatches() throws Exception {
    EtcdNodeCommand.Flags flags = EtcdNodeCommand.parse("-d", tmp.resolve("n").toString(), "-c", "127.0.0.1:0",
        "-s", "127.0.0.1:0", "--max-history-mb", "1");
    try (org.etcdjvm.embedded.EtcdNode node = EtcdNodeCommand.builder(flags).build()) {
      node.start().get(30, java.util.concurrent.TimeUnit.SECONDS);
      java.net.http.HttpClient http = java.net.http.HttpClient.newHttpClient();
      String value = "v".repeat(400_000);
      long first = 0;
      for (int i = 0; i < 3; i++) {
        java.net.http.HttpResponse<String> r = http.send(java.net.http.HttpRequest.newBuilder(
                java.net.URI.create(node.clientUrl() + "/v1/keys/big"))
            .header("Content-Type", "application/x-www-form-urlencoded")
            .POST(java.net.http.HttpRequest.BodyPublishers.ofString("value=" + value)).build(),
            java.net.http.HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        if (i == 0) {
          java.util.regex.Matcher m = java.util.regex.Pattern.compile("\"index\":(\\d+)").matcher(r.body());
          assertThat(m.find()).as(r.body()).isTrue();
          first = Long.parseLong(m.group(1));
        }
      }
      java.net.http.HttpResponse<String> watch = http.send(java.net.http.HttpRequest.newBuilder(
              java.net.URI.create(node.clientUrl() + "/v1/watch/big"))
          .header("Content-Type", "application/x-www-form-urlencoded")
          .timeout(java.time.Duration.ofSeconds(20)) // a watch still in the history would wait for the next write
          .POST(java.net.http.HttpRequest.BodyPublishers.ofString("index=" + first)).build(),
          java.net.http.HttpResponse.BodyHandlers.ofString());
      assertThat(watch.body()).as("the first write's event is gone: 1 MB holds two of these")
          .contains("\"errorCode\":401");
    }
  }

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
  void everyEtcd012FlagIsAcceptedInGoStyle() throws Exception {
    EtcdNodeCommand.Flags flags = EtcdNodeCommand.parse(
        "-v", "-vv", "-n=node2", "-d=nodes/node2", "-c=10.0.0.2:4001", "-cl", "0.0.0.0", "-s", "10.0.0.2:7001",
        "-sl=0.0.0.0", "-C=10.0.0.1:7001", "-m", "2048", "-maxsize=5", "-cors=*", "-snapshot=true", "-r", "3",
        "-w", "127.0.0.1:4002", "-cpuprofile", "cpu.out", "-f=false");
    assertThat(flags.name()).isEqualTo("node2");
    assertThat(flags.dataDir()).isEqualTo(Path.of("nodes/node2"));
    assertThat(flags.clientAddress()).isEqualTo("10.0.0.2:4001");
    assertThat(flags.clientListenHost()).as("-cl is its own flag, not -c l").isEqualTo("0.0.0.0");
    assertThat(flags.peerAddress()).isEqualTo("10.0.0.2:7001");
    assertThat(flags.peerListenHost()).isEqualTo("0.0.0.0");
    assertThat(flags.peers()).containsExactly("10.0.0.1:7001");
    assertThat(flags.historySize()).isEqualTo(2048);
    assertThat(flags.maxClusterSize()).isEqualTo(5);
    assertThat(flags.cors()).containsExactly("*");
    assertThat(flags.verbosity()).isEqualTo(2);
    assertThat(flags.force()).isFalse();
    assertThat(flags.ignored()).hasSize(4).anySatisfy(i -> assertThat(i).startsWith("-snapshot"));
  }

  @Test
  void doubleDashFormsOfGoFlagsAndTheTimingFlagsWork() throws Exception {
    EtcdNodeCommand.Flags flags = EtcdNodeCommand.parse("--maxsize", "3", "--cl=127.0.0.2", "-CF", peersFile(),
        "--election-timeout", "300", "--heartbeat-interval=60", "-v=true", "--start-timeout", "90");
    assertThat(flags.maxClusterSize()).isEqualTo(3);
    assertThat(flags.clientListenHost()).isEqualTo("127.0.0.2");
    assertThat(flags.peers()).containsExactly("10.0.0.1:7001", "10.0.0.3:7001");
    assertThat(flags.electionTimeout()).isEqualTo(java.time.Duration.ofMillis(300));
    assertThat(flags.heartbeatInterval()).isEqualTo(java.time.Duration.ofMillis(60));
    assertThat(flags.verbosity()).isEqualTo(1);
    assertThat(flags.startTimeout()).isEqualTo(java.time.Duration.ofSeconds(90));
    assertThat(EtcdNodeCommand.parse().startTimeout()).isNull();
    assertThat(EtcdNodeCommand.parse("--max-history-mb", "64").maxHistoryMb()).isEqualTo(64);
    assertThat(EtcdNodeCommand.parse().maxHistoryMb()).isNull();
    assertThatThrownBy(() -> EtcdNodeCommand.parse("--max-history-mb", "0"))
        .hasMessageContaining("-max-history-mb needs a positive whole number");
    assertThatThrownBy(() -> EtcdNodeCommand.parse("--start-timeout", "0"))
        .hasMessageContaining("-start-timeout needs a positive whole number");
    assertThat(EtcdNodeCommand.parse("-version").version()).isTrue();
  }

  private static String peersFile() throws java.io.IOException {
    Path file = java.nio.file.Files.createTempFile("peers", ".txt");
    java.nio.file.Files.writeString(file, "http://10.0.0.1:7001,10.0.0.3:7001\n");
    file.toFile().deleteOnExit();
    return file.toString();
  }

  @Test
  void tlsFlagsOfEtcd01AreAcceptedInEveryForm() throws Exception {
    EtcdNodeCommand.Flags flags = EtcdNodeCommand.parse("-clientCert=c.crt", "-clientKey", "c.key",
        "--clientCAFile=ca.crt", "--peer-cert-file", "p.crt", "-serverKey=p.key", "--peer-ca-file=pca.crt");
    assertThat(flags.clientTls()).isEqualTo(new EtcdNodeCommand.Tls(Path.of("c.crt"), Path.of("c.key"), Path.of("ca.crt")));
    assertThat(flags.peerTls()).isEqualTo(new EtcdNodeCommand.Tls(Path.of("p.crt"), Path.of("p.key"), Path.of("pca.crt")));

    EtcdNodeCommand.Flags longForms = EtcdNodeCommand.parse("--client-cert-file=c.crt", "--client-key-file", "c.key");
    assertThat(longForms.clientTls()).isEqualTo(new EtcdNodeCommand.Tls(Path.of("c.crt"), Path.of("c.key"), null));
    assertThat(longForms.peerTls()).isNull();
    assertThat(EtcdNodeCommand.parse().clientTls()).isNull();
    assertThat(EtcdNodeCommand.parse("-C", "https://10.0.0.1:7001").peers()).containsExactly("10.0.0.1:7001");
  }

  @Test
  void incompleteTlsFlagsAreRefusedWithWhatIsMissing() {
    assertThatThrownBy(() -> EtcdNodeCommand.parse("-clientCert=c.crt"))
        .isInstanceOf(EtcdNodeCommand.BadFlagsException.class).hasMessage("give -clientCert and -clientKey together");
    assertThatThrownBy(() -> EtcdNodeCommand.parse("-clientCAFile=ca.crt"))
        .isInstanceOf(EtcdNodeCommand.BadFlagsException.class).hasMessageContaining("-clientCert and -clientKey");
    assertThatThrownBy(() -> EtcdNodeCommand.parse("-serverCert=p.crt", "-serverKey=p.key"))
        .isInstanceOf(EtcdNodeCommand.BadFlagsException.class)
        .hasMessageContaining("give -serverCert, -serverKey and -serverCAFile together");
  }

  @Test
  void aMissingCertificateFileFailsTheStartWithOneSentenceNamingIt() throws Exception {
    Path dir = java.nio.file.Files.createTempDirectory("tls-flags");
    Output err = new Output();
    int status = EtcdNodeCommand.run(new String[] {"-n", "t", "-d", dir.resolve("t").toString(), "-c", "127.0.0.1:0",
        "-s", "127.0.0.1:0", "-clientCert", dir.resolve("missing.crt").toString(), "-clientKey",
        dir.resolve("missing.key").toString()}, new Output().stream, err.stream);
    assertThat(status).isEqualTo(1);
    assertThat(err.text().strip()).isEqualTo("etcd-node: cannot read the client certificate file "
        + dir.resolve("missing.crt") + ": it does not exist");
  }

  @Test
  void badNumbersAndTimingsAreRefused() throws Exception {
    assertThatThrownBy(() -> EtcdNodeCommand.parse("-maxsize", "0"))
        .isInstanceOf(EtcdNodeCommand.BadFlagsException.class).hasMessageContaining("-maxsize");
    assertThatThrownBy(() -> EtcdNodeCommand.parse("-m", "lots"))
        .isInstanceOf(EtcdNodeCommand.BadFlagsException.class).hasMessageContaining("lots");
    assertThatThrownBy(() -> EtcdNodeCommand.parse("-v=maybe"))
        .isInstanceOf(EtcdNodeCommand.BadFlagsException.class).hasMessageContaining("maybe");
    Output err = new Output();
    assertThat(EtcdNodeCommand.run(new String[] {"--election-timeout", "40", "--heartbeat-interval", "50"},
        new Output().stream, err.stream)).isEqualTo(2);
    assertThat(err.text()).contains("heartbeatInterval (50 ms) must be shorter than electionTimeout (40 ms)");
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
