//! The pod network: a bridge per node, a veth pair per pod, host-local IPAM.
