/**
 * The fault harness of issue 10: clusters of node processes (in network namespaces), a nemesis,
 * clients and watches that record a history, and the run that ties them together ({@link
 * org.etcdjvm.faults.FaultSoak} is the soak mode's main). A test tool of this repository, not an
 * API: the module is never installed or deployed.
 */
package org.etcdjvm.faults;
