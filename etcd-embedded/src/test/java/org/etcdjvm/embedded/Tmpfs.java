package org.etcdjvm.embedded;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * A small file system for fault tests: a tmpfs mounted on a directory of the test's own (needs
 * root, as CI runs; elsewhere the test is skipped, saying why). Unmount it in an {@code @AfterEach}.
 */
public final class Tmpfs {
  private Tmpfs() {}

  /** Mounts a tmpfs with {@code options} (for example {@code size=96m}) on {@code where}, created if missing. */
  public static Path mount(Path where, String options) throws Exception {
    Files.createDirectories(where);
    Process p = new ProcessBuilder("mount", "-t", "tmpfs", "-o", options, "tmpfs", where.toString())
        .redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes());
    boolean mounted = p.waitFor(30, TimeUnit.SECONDS) && p.exitValue() == 0;
    assumeTrue(mounted, "cannot mount a tmpfs here (needs root): " + out);
    return where;
  }

  /** Unmounts it (lazily: a process still holding a file there does not keep it mounted). */
  public static void unmount(Path where) throws Exception {
    new ProcessBuilder("umount", "-l", where.toString()).redirectErrorStream(true).start().waitFor(30, TimeUnit.SECONDS);
  }
}
