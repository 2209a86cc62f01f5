"""CommerceML 2.x/3.1: the records 1C's files hold and the streaming reader that yields them.

No Django imports here or below: the reader is tested and benchmarked on a file alone.
"""
