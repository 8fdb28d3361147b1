-- A letter's check as the server made it when the letter came (SPEC §8 "Signed letters"):
-- each electronic signature's verdict against the trust list in force then, and the links
-- of its QR codes, as JSON (`LetterCheck`). Empty for letters stored before. Keep in step
-- with the other dialect.
ALTER TABLE memberships ADD COLUMN letter_check TEXT;
