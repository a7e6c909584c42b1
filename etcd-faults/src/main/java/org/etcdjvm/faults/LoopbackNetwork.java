package org.etcdjvm.faults;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.List;
import org.etcdjvm.embedded.internal.LocalCluster;

/**
 * Every node on 127.0.0.1 with its own free ports, for machines where network namespaces are not
 * available (not root): kills, pauses and membership changes work, partitions do not.
 */
final class LoopbackNetwork implements Network {
  private final String[] client;
  private final String[] peer;

  LoopbackNetwork(int slots) {
    client = new String[slots + 1];
    peer = new String[slots + 1];
    try {
      for (int i = 1; i <= slots; i++) {
        client[i] = "127.0.0.1:" + LocalCluster.freePort();
        peer[i] = "127.0.0.1:" + LocalCluster.freePort();
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  @Override
  public boolean canPartition() {
    return false;
  }

  @Override
  public String clientAddress(int slot) {
    return client[slot];
  }

  @Override
  public String peerAddress(int slot) {
    return peer[slot];
  }

  @Override
  public List<String> launchPrefix(int slot) {
    return List.of();
  }

  @Override
  public void cut(int from, int to) {
    throw new UnsupportedOperationException("no partitions on loopback");
  }

  @Override
  public void heal(int from, int to) {}

  @Override
  public void healAll() {}

  @Override
  public String describe() {
    return "whole (loopback: no partitions)";
  }

  @Override
  public void close() {}
}
