package org.etcdjvm.faults;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Each node in its own network namespace, wired with iproute2 alone (no iptables, no tc):
 * <ul>
 *   <li>slot i's namespace {@code efz<K>n<i>} has the node's address {@code 10.213.K.i/32} on its
 *       {@code lo}; the node listens there for clients and peers;
 *   <li>every pair of namespaces i, j is joined by its own veth pair ({@code p<j>} in i, {@code
 *       p<i>} in j), with a route for the other's /32 over it and a permanent neighbour entry
 *       holding the other end's MAC (no ARP);
 *   <li>one more veth joins each namespace to the root namespace ({@code efz<K>c<i>}, address
 *       {@code 10.214.K.i}), so the harness reaches every node's client port whatever the cuts.
 * </ul>
 * A cut from i to j replaces i's neighbour entry for j with a MAC nobody has: j's end drops every
 * frame from i as not addressed to it, silently, like a firewall's DROP (TCP retransmits, connects
 * time out, nothing is refused). Healing puts the right MAC back, and the retransmissions get
 * through. Cuts are per direction, so partitions of any shape (majority/minority, an isolated
 * leader, a bridge) and one-way links are all just sets of cuts.
 *
 * <p>K is a slot number taken with a file lock ({@code /tmp/etcdjvm-faults/slot-K.lock}) for the
 * lifetime of this object, so concurrent harness runs never share names or addresses; at start
 * anything left with a free slot's names (namespaces, their processes, links) is cleaned away.
 * {@link #close()} deletes the namespaces (which removes every link) and kills what still runs
 * in them. Needs root and {@code ip netns}.
 */
final class NamespaceNetwork implements Network {
  static final int CLIENT_PORT = 4001;
  static final int PEER_PORT = 7001;
  private static final String BOGUS_MAC = "02:fd:00:00:00:00";
  private static final Path LOCKS = Path.of(System.getProperty("java.io.tmpdir"), "etcdjvm-faults");
  private static final Pattern OUR_NS = Pattern.compile("^efz(\\d+)n\\d+\\b");

  private final int k;
  private final int slots;
  private final FileChannel lockFile;
  private final FileLock lock;
  private final Set<String> cuts = new TreeSet<>();
  private boolean closed;

  /** True when this machine can run it (root, ip netns works). */
  static boolean available() {
    if (!"root".equals(System.getProperty("user.name"))) {
      return false;
    }
    String probe = "efzprobe" + ProcessHandle.current().pid();
    Sh.Result add = Sh.run("ip", "netns", "add", probe);
    if (add.exit() != 0) {
      return false;
    }
    Sh.run("ip", "netns", "del", probe);
    return true;
  }

  NamespaceNetwork(int slots) throws IOException {
    if (slots < 1 || slots > 9) {
      throw new IllegalArgumentException("1..9 slots: " + slots);
    }
    this.slots = slots;
    Files.createDirectories(LOCKS);
    cleanStale();
    FileChannel ch = null;
    FileLock l = null;
    int slot = 0;
    for (int candidate = 1; candidate <= 200 && l == null; candidate++) {
      FileChannel c = FileChannel.open(LOCKS.resolve("slot-" + candidate + ".lock"), StandardOpenOption.CREATE,
          StandardOpenOption.WRITE);
      FileLock got;
      try {
        got = c.tryLock();
      } catch (java.nio.channels.OverlappingFileLockException inThisJvm) {
        got = null;
      }
      if (got == null) {
        c.close();
      } else {
        ch = c;
        l = got;
        slot = candidate;
      }
    }
    if (l == null) {
      throw new IOException("no free network slot under " + LOCKS);
    }
    this.k = slot;
    this.lockFile = ch;
    this.lock = l;
    cleanSlot(k);
    try {
      setUp();
    } catch (RuntimeException e) {
      close();
      throw e;
    }
  }

  private String ns(int i) {
    return "efz" + k + "n" + i;
  }

  private String rootLink(int i) {
    return "efz" + k + "c" + i;
  }

  private String nodeIp(int i) {
    return "10.213." + k + "." + i;
  }

  private String rootIp(int i) {
    return "10.214." + k + "." + i;
  }

  /** MAC of i's end of the link to j (j = 0: the client link's end in i; i = 0: its root end). */
  private String mac(int i, int j, int kind) {
    return String.format("02:%02x:%02x:%02x:%02x:00", 0xf0 + kind, k, i, j);
  }

  private void setUp() {
    for (int i = 1; i <= slots; i++) {
      String ns = ns(i);
      Sh.must("ip", "netns", "add", ns);
      Sh.must("ip", "-n", ns, "link", "set", "lo", "up");
      Sh.must("ip", "-n", ns, "addr", "add", nodeIp(i) + "/32", "dev", "lo");
      String rootMac = mac(0, i, 2);
      String nsMac = mac(i, 0, 2);
      Sh.must("ip", "link", "add", rootLink(i), "address", rootMac, "type", "veth", "peer", "c0", "address", nsMac,
          "netns", ns);
      Sh.must("ip", "addr", "add", rootIp(i) + "/32", "dev", rootLink(i));
      Sh.must("ip", "link", "set", rootLink(i), "up");
      Sh.must("ip", "-n", ns, "link", "set", "c0", "up");
      Sh.must("ip", "route", "add", nodeIp(i) + "/32", "dev", rootLink(i), "src", rootIp(i));
      Sh.must("ip", "-n", ns, "route", "add", rootIp(i) + "/32", "dev", "c0", "src", nodeIp(i));
      Sh.must("ip", "neigh", "replace", nodeIp(i), "lladdr", nsMac, "dev", rootLink(i), "nud", "permanent");
      Sh.must("ip", "-n", ns, "neigh", "replace", rootIp(i), "lladdr", rootMac, "dev", "c0", "nud", "permanent");
    }
    for (int i = 1; i <= slots; i++) {
      for (int j = i + 1; j <= slots; j++) {
        Sh.must("ip", "link", "add", "p" + j, "address", mac(i, j, 1), "netns", ns(i), "type", "veth",
            "peer", "p" + i, "address", mac(j, i, 1), "netns", ns(j));
        Sh.must("ip", "-n", ns(i), "link", "set", "p" + j, "up");
        Sh.must("ip", "-n", ns(j), "link", "set", "p" + i, "up");
        Sh.must("ip", "-n", ns(i), "route", "add", nodeIp(j) + "/32", "dev", "p" + j, "src", nodeIp(i));
        Sh.must("ip", "-n", ns(j), "route", "add", nodeIp(i) + "/32", "dev", "p" + i, "src", nodeIp(j));
        neighbour(i, j, mac(j, i, 1));
        neighbour(j, i, mac(i, j, 1));
      }
    }
  }

  private void neighbour(int from, int to, String mac) {
    Sh.must("ip", "-n", ns(from), "neigh", "replace", nodeIp(to), "lladdr", mac, "dev", "p" + to, "nud", "permanent");
  }

  @Override
  public boolean canPartition() {
    return true;
  }

  @Override
  public String clientAddress(int slot) {
    return nodeIp(slot) + ":" + CLIENT_PORT;
  }

  @Override
  public String peerAddress(int slot) {
    return nodeIp(slot) + ":" + PEER_PORT;
  }

  @Override
  public List<String> launchPrefix(int slot) {
    return List.of("ip", "netns", "exec", ns(slot));
  }

  @Override
  public synchronized void cut(int from, int to) {
    if (from != to && cuts.add(from + ">" + to)) {
      neighbour(from, to, BOGUS_MAC);
    }
  }

  @Override
  public synchronized void heal(int from, int to) {
    if (cuts.remove(from + ">" + to)) {
      neighbour(from, to, mac(to, from, 1));
    }
  }

  @Override
  public synchronized void healAll() {
    for (String c : new ArrayList<>(cuts)) {
      String[] p = c.split(">");
      heal(Integer.parseInt(p[0]), Integer.parseInt(p[1]));
    }
  }

  @Override
  public synchronized String describe() {
    return cuts.isEmpty() ? "whole" : "cut " + String.join(" ", cuts.stream().map(c -> "n" + c.replace(">", "->n")).toList());
  }

  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    closed = true;
    cleanSlot(k);
    try {
      lock.release();
      lockFile.close();
    } catch (IOException ignored) {
      // the lock goes with the process anyway
    }
  }

  /** Deletes what a slot's names still hold: processes in its namespaces, the namespaces, root links. */
  private static void cleanSlot(int slot) {
    for (String ns : namespaces()) {
      Matcher m = OUR_NS.matcher(ns);
      if (m.find() && Integer.parseInt(m.group(1)) == slot) {
        String name = ns.split("\\s")[0];
        for (String pid : Sh.run("ip", "netns", "pids", name).output().split("\\s+")) {
          if (pid.matches("\\d+")) {
            Sh.run("kill", "-KILL", pid);
          }
        }
        Sh.run("ip", "netns", "del", name);
      }
    }
    String prefix = "efz" + slot + "c";
    for (String line : Sh.run("ip", "-o", "link", "show").output().split("\n")) {
      String[] parts = line.split(":\\s+");
      if (parts.length > 1) {
        String name = parts[1].split("@")[0];
        if (name.startsWith(prefix) && name.substring(prefix.length()).matches("\\d+")) {
          Sh.run("ip", "link", "del", name);
        }
      }
    }
  }

  private static List<String> namespaces() {
    Sh.Result r = Sh.run("ip", "netns", "list");
    List<String> out = new ArrayList<>();
    if (r.exit() == 0) {
      for (String line : r.output().split("\n")) {
        if (!line.isBlank()) {
          out.add(line.strip());
        }
      }
    }
    return out;
  }

  /** Cleans every slot whose lock nobody holds (left by a harness that was killed). */
  private static void cleanStale() throws IOException {
    Set<Integer> seen = new TreeSet<>();
    for (String ns : namespaces()) {
      Matcher m = OUR_NS.matcher(ns);
      if (m.find()) {
        seen.add(Integer.parseInt(m.group(1)));
      }
    }
    for (int slot : seen) {
      try (FileChannel c = FileChannel.open(LOCKS.resolve("slot-" + slot + ".lock"), StandardOpenOption.CREATE,
          StandardOpenOption.WRITE)) {
        FileLock l = c.tryLock();
        if (l != null) {
          try {
            System.out.println("FAULTS cleaning namespaces left by an earlier run (slot " + slot + ")");
            cleanSlot(slot);
          } finally {
            l.release();
          }
        }
      } catch (java.nio.channels.OverlappingFileLockException inThisJvm) {
        // held by another network of this JVM: in use
      }
    }
  }
}
