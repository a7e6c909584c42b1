package org.etcdjvm.embedded.internal.raft;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.etcdjvm.embedded.internal.store.StoreLimits;
import org.etcdjvm.embedded.internal.tls.TlsSource;

/**
 * Everything a member of the Raft group needs.
 *
 * @param peerAddress       this member's advertised {@code host:port} for Raft traffic (also its member id)
 * @param peerListenHost    the host to listen on for Raft traffic; null: the host of {@code peerAddress}
 * @param peers             peer addresses of other members (etcd's {@code -C}): whom to ask at
 *                          start; a restart uses the stored configuration whatever they are
 * @param electionTimeout   Raft election timeout (a follower that hears nothing from the leader for
 *                          one to two of these stands for election)
 * @param heartbeatInterval how often the leader contacts idle followers
 * @param requestTimeout    reply timeout of each Raft request between members (Atomix uses 5 s)
 * @param commitTimeout     how long a write may wait for its commit before it fails as "outcome unknown"
 * @param tickInterval      how often the leader checks for due TTLs
 * @param maxBatchOps       writes per Raft command at most
 * @param segmentBytes      size of a log segment; compaction frees whole segments; a Raft entry (one
 *                          batch) is at most half of it and must hold the largest single write
 * @param maxClusterSize    members the cluster admits at most (etcd's {@code -maxsize}); a join
 *                          beyond it is refused with error 103
 * @param minFreeDiskBytes  below this much free space on the data directory's file system, no more
 *                          log entries are taken (-1: the default, three segments plus an entry;
 *                          0: no floor)
 * @param maxLogBytes       when the log's segments hold more than this, a snapshot is taken and the
 *                          log before it dropped at once, not at the next scheduled compaction
 *                          (0: the default, four segments)
 * @param peerTls           the key, certificate and trusted CAs of mutually authenticated TLS between
 *                          members; null: plain Atomix messaging
 */
public record RaftConfig(
    String name,
    Path dataDir,
    String peerAddress,
    String peerListenHost,
    List<String> peers,
    Duration electionTimeout,
    Duration heartbeatInterval,
    Duration sessionTimeout,
    Duration requestTimeout,
    Duration commitTimeout,
    Duration tickInterval,
    int maxBatchOps,
    int segmentBytes,
    int maxClusterSize,
    long minFreeDiskBytes,
    long maxLogBytes,
    StoreLimits limits,
    TlsSource peerTls) {

  public RaftConfig {
    peers = List.copyOf(peers);
  }

  /** Without TLS between members. */
  public RaftConfig(String name, Path dataDir, String peerAddress, String peerListenHost, List<String> peers,
      Duration electionTimeout, Duration heartbeatInterval, Duration sessionTimeout, Duration requestTimeout,
      Duration commitTimeout, Duration tickInterval, int maxBatchOps, int segmentBytes, int maxClusterSize,
      long minFreeDiskBytes, long maxLogBytes, StoreLimits limits) {
    this(name, dataDir, peerAddress, peerListenHost, peers, electionTimeout, heartbeatInterval, sessionTimeout,
        requestTimeout, commitTimeout, tickInterval, maxBatchOps, segmentBytes, maxClusterSize, minFreeDiskBytes,
        maxLogBytes, limits, null);
  }

  /** The scheme of this cluster's peer URLs: {@code https} with TLS between members. */
  public String peerScheme() {
    return peerTls != null ? "https" : "http";
  }

  /**
   * Largest Raft entry (one batch): room for the largest single write (key, value and a
   * test-and-set's previous value at their limits) plus 64 KiB, at least 1 MiB, and at most half a
   * log segment (Atomix needs it to fit). Not larger: Atomix gives every log segment reader and
   * writer a heap buffer of twice this size.
   */
  /**
   * Free space below which writes are refused: as given, or by default three log segments plus
   * the largest entry (Atomix 3.1 refuses to create a segment with less than three segments free).
   */
  public long diskFloorBytes() {
    return minFreeDiskBytes >= 0 ? minFreeDiskBytes : 3L * segmentBytes + maxEntryBytes();
  }

  /** The log size that forces a compaction: as given, or four segments. */
  public long logLimitBytes() {
    return maxLogBytes > 0 ? maxLogBytes : 4L * segmentBytes;
  }

  public int maxEntryBytes() {
    long single = 2L * limits.maxValueBytes() + limits.maxKeyBytes() + 64 * 1024;
    return (int) Math.min(Math.max(single, 1024 * 1024), segmentBytes / 2);
  }
}
