"""Ways to give: coin addresses, links and the contact e-mail, and the rules that guard them."""
