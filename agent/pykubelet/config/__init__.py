"""Where desired pods come from (the kubelet's config sources): the manifest directory, later a URL."""
