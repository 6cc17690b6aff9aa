"""The profile: name, masked phone, counts; renaming."""
