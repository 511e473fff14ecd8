"""An independent oracle for the ID check character (the tests' one; the product has its own).

GB 11643-1999 defines the weights as 2^(17-i) mod 11; the product writes them out as a table.
"""


def check_char(first17: str) -> str:
    """Compute the check character independently of the code under test."""
    weights = [2 ** (17 - i) % 11 for i in range(17)]
    return "10X98765432"[sum(int(d) * w for d, w in zip(first17, weights, strict=True)) % 11]
