# attn_add_model(): compiles a .attn file with attnc and links it (filled in by the driver work).
