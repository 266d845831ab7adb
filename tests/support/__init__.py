"""What test modules share: account builders, page openers, the demo and template databases, servers."""
