package org.etcdjvm.embedded;

import java.util.ArrayList;
import java.util.List;

/**
 * Atomix 3.1 serializes Raft messages with Kryo 4, which reflects into JDK internals that Java 17
 * closes by default. Rather than let the first Raft message fail deep inside Kryo, a node checks
 * the JVM up front and names the exact flags.
 */
final class JvmFlags {
  static final List<String> REQUIRED_OPENS = List.of("java.util.concurrent.atomic", "java.util");

  private JvmFlags() {
  }

  /** The {@code --add-opens} flags this JVM is missing, as they would be typed; empty if none. */
  static List<String> missing() {
    Module kryo = kryoModule();
    List<String> missing = new ArrayList<>();
    for (String pkg : REQUIRED_OPENS) {
      if (!Object.class.getModule().isOpen(pkg, kryo)) {
        missing.add("--add-opens java.base/" + pkg + "=" + (kryo.isNamed() ? kryo.getName() : "ALL-UNNAMED"));
      }
    }
    return missing;
  }

  private static Module kryoModule() {
    try {
      return Class.forName("com.esotericsoftware.kryo.Kryo", false, JvmFlags.class.getClassLoader()).getModule();
    } catch (ClassNotFoundException e) {
      return JvmFlags.class.getModule();
    }
  }
}
