package org.etcdjvm.faults;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The partitions the nemesis makes are real: a cut drops packets silently in the one direction it
 * names, healing restores it, the harness reaches every node's client port whatever the cuts, and
 * closing removes every namespace. Needs root and {@code ip netns} (skipped otherwise).
 */
class NamespaceNetworkTest {
  private static Process inNamespace(Network net, int slot, String... args) throws Exception {
    List<String> cmd = new ArrayList<>(net.launchPrefix(slot));
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    cmd.add("-cp");
    cmd.add(System.getProperty("java.class.path"));
    cmd.add(TcpProbe.class.getName());
    cmd.addAll(List.of(args));
    return new ProcessBuilder(cmd).redirectErrorStream(true).start();
  }

  /** Exit status of a connect from {@code from} to {@code to}'s peer address. */
  private static int connect(Network net, int from, int to) throws Exception {
    String[] hp = net.peerAddress(to).split(":");
    Process p = inNamespace(net, from, "connect", hp[0], hp[1], "1500");
    assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
    return p.exitValue();
  }

  @Test
  void cutsDropSilentlyPerDirectionAndHeal() throws Exception {
    assumeTrue(NamespaceNetwork.available(), "needs root and ip netns");
    List<Process> listeners = new ArrayList<>();
    String firstNs;
    try (NamespaceNetwork net = new NamespaceNetwork(3)) {
      firstNs = net.launchPrefix(1).get(3);
      for (int slot = 1; slot <= 3; slot++) {
        String[] hp = net.peerAddress(slot).split(":");
        Process l = inNamespace(net, slot, "listen", hp[0], hp[1]);
        listeners.add(l);
        String line = new BufferedReader(new InputStreamReader(l.getInputStream(), StandardCharsets.UTF_8)).readLine();
        assertThat(line).isEqualTo("listening");
      }
      try {
        assertThat(connect(net, 1, 2)).as("1 -> 2, whole").isZero();
        assertThat(connect(net, 2, 1)).as("2 -> 1, whole").isZero();

        net.cut(1, 2);
        assertThat(net.describe()).isEqualTo("cut n1->n2");
        assertThat(connect(net, 1, 2)).as("1 -> 2 cut: a timeout, not a refusal").isEqualTo(3);
        assertThat(connect(net, 1, 3)).as("1 -> 3 untouched").isZero();
        // 2 -> 1 sends its SYN, but 1's answer is dropped on the way back: no connection either
        assertThat(connect(net, 2, 1)).isEqualTo(3);
        // the harness still reaches every node's address over its own link
        for (int slot = 1; slot <= 3; slot++) {
          String[] hp = net.peerAddress(slot).split(":");
          try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress(hp[0], Integer.parseInt(hp[1])), 2000);
          }
        }

        net.healAll();
        assertThat(net.describe()).isEqualTo("whole");
        assertThat(connect(net, 1, 2)).as("healed").isZero();
        assertThat(connect(net, 2, 1)).isZero();
      } finally {
        listeners.forEach(Process::destroyForcibly);
      }
    }
    assertThat(Sh.run("ip", "netns", "list").output()).doesNotContain(firstNs);
  }
}
