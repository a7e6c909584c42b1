package org.etcdjvm.faults;

import java.util.List;

/**
 * Where the harness's nodes live and how their traffic can be cut. Slots are numbered 1..n; each
 * runs at most one node process at a time, always on the same addresses.
 */
interface Network extends AutoCloseable {
  /** False when partitions cannot be made (the nemesis then leaves them out). */
  boolean canPartition();

  /** The node's client address, host:port (its {@code -c}), reachable from the harness. */
  String clientAddress(int slot);

  /** The node's peer address, host:port (its {@code -s}). */
  String peerAddress(int slot);

  /** Put in front of the node's java command line (e.g. {@code ip netns exec <ns>}). */
  List<String> launchPrefix(int slot);

  /** Drops every packet from {@code from}'s node to {@code to}'s node, silently, from now on. */
  void cut(int from, int to);

  /** Lets {@code from} reach {@code to} again. */
  void heal(int from, int to);

  /** Heals every cut. */
  void healAll();

  /** What the network looks like now, for the log, e.g. "n1-x-n3". */
  String describe();

  @Override
  void close();
}
